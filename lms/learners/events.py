"""Hooks on learner records, for statistics counters and anything else that follows them.

Receivers run synchronously inside the transaction of the change, so a counter they
update commits or rolls back with it. Send exactly once per real change.

    learner_registered.send(learner)                  # a new learner record
    learner_moved.send(learner, old_commune_id=..., old_village_id=...)   # after the move
    learner_deleted.send(learner)                     # before personal data is erased
    learner_renamed.send(learner)                     # after a correction of the full name
"""

from blinker import Namespace

signals = Namespace()

learner_registered = signals.signal("learner-registered")
learner_moved = signals.signal("learner-moved")
learner_deleted = signals.signal("learner-deleted")
learner_renamed = signals.signal("learner-renamed")
