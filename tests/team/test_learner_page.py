from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.learners import events
from tests.conftest import post_form


def test_edit_corrects_data_and_is_audited(client, make, member, login):
    learner = make.learner(full_name="Nguyen Thi Hoa", birth_year=1960, sex="female").learner
    db.session.flush()
    login(member)
    url = f"/team/learners/{learner.id}/edit"
    response = post_form(client, url, {"full_name": "Nguyễn Thị Hoà", "birth_year": "1960", "sex": "female",
                                       "village": "", "phone": "0905 111 222", "national_id": "001160012345"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.refresh(learner)
    assert learner.full_name == "Nguyễn Thị Hoà" and learner.national_id_last4 == "2345"
    assert learner.user.phone == "+84905111222"
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.learner_id == learner.id)))
    assert actions.count("learner.update") == 2


def test_transfer_sends_learner_moved_and_leaves_scope(client, make, member, login, other_commune):
    learner = make.learner().learner
    old_commune = learner.commune_id
    db.session.flush()
    moves = []

    def receiver(sender, **kwargs):
        moves.append(kwargs)

    events.learner_moved.connect(receiver)
    try:
        login(member)
        response = post_form(client, f"/team/learners/{learner.id}/move", {"commune": str(other_commune.id)})
    finally:
        events.learner_moved.disconnect(receiver)
    assert response.status_code == 302
    assert moves == [{"old_commune_id": old_commune, "old_village_id": None}]
    assert client.get(f"/team/learners/{learner.id}").status_code == 403
