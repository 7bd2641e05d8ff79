"""Hooks where other domains attach to learning events.

Receivers run synchronously, inside the transaction of the event that fired them, so
what they write (a certificate, a statistics counter) commits or rolls back with it.
`course_completed` fires exactly once per enrolment: only the request that actually
set `completed_dt` sends it.

    from lms.learning.events import course_completed

    @course_completed.connect
    def issue(enrollment, **extra): ...
"""

from blinker import Namespace

signals = Namespace()

enrolled = signals.signal("enrolled")                   # sender: Enrollment
lesson_completed = signals.signal("lesson-completed")   # sender: LessonProgress; enrollment=
course_completed = signals.signal("course-completed")   # sender: Enrollment; helper=
quiz_submitted = signals.signal("quiz-submitted")       # sender: QuizAttempt
