"""The flags page (who sees what, review and audit), the count beside dashboard figures,
and the flag column of the exports."""

import csv
import io
import shutil
import subprocess

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.extensions import db
from lms.quality.models import GENUINE, PROBLEM
from lms.quality.operations import review_flag
from lms.units.queries import communes_of
from tests.conftest import csrf_token
from tests.quality.conftest import complete_course, flags_of


@pytest.fixture
def flagged(make):
    """A learner of the default commune who finished a course in no time."""
    learner = make.learner(full_name="Phạm Văn Nhanh").learner
    complete_course(learner, slow=False)
    db.session.flush()
    return learner


def _other_commune(learner):
    return next(c for c in communes_of(learner.province_id) if c.id != learner.commune_id)


@pytest.mark.parametrize("role", ["commune_official", "province_official", "national_admin"])
def test_the_officials_who_can_see_the_learner_see_the_flag_with_why(client, make, login, flagged, role):
    login(make.staff(role))
    page = client.get("/quality/flags").get_data(as_text=True)
    assert "Phạm Văn Nhanh" in page and "Học xong khóa học quá nhanh" in page
    assert "Đã học xong" in page and "Làm bài kiểm tra quá nhanh" in page  # the why, in Vietnamese


def test_the_why_reads_in_english_too(client, make, login, flagged):
    official = make.staff("commune_official")
    official.locale = "en"
    db.session.flush()
    login(official)
    page = client.get("/quality/flags").get_data(as_text=True)
    assert "Course finished too fast" in page and "reading them takes about" in page
    assert "Quiz answered too fast" in page


def test_an_official_of_another_commune_cannot_see_or_review(client, make, login, flagged):
    stranger = make.staff("commune_official", unit=_other_commune(flagged))
    login(stranger)
    page = client.get("/quality/flags").get_data(as_text=True)
    assert "Phạm Văn Nhanh" not in page
    flag = flags_of(flagged)[0]
    token = csrf_token(client, "/quality/flags")
    response = client.post(f"/quality/flags/{flag.id}/review", data={"csrf_token": token, "status": GENUINE})
    assert response.status_code == 403
    db.session.refresh(flag)
    assert flag.status == "open" and flag.reviewed_by_id is None


def test_team_members_and_learners_have_no_flags_page(client, make, login, flagged):
    login(make.staff("team_member"))
    assert client.get("/quality/flags").status_code == 403


def test_review_is_stored_and_audited(client, make, login, flagged):
    official = make.staff("commune_official")
    login(official)
    flag = flags_of(flagged)[0]
    token = csrf_token(client, "/quality/flags")
    response = client.post(f"/quality/flags/{flag.id}/review", data={"csrf_token": token, "status": PROBLEM})
    assert response.status_code == 302
    db.session.refresh(flag)
    assert (flag.status, flag.reviewed_by_id) == (PROBLEM, official.id) and flag.reviewed_dt is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "quality.review"))
    assert event.actor_id == official.id and event.learner_id == flagged.id
    assert event.unit_id == flagged.commune_id
    assert event.details == {"flag_id": flag.id, "kind": flag.kind, "status": PROBLEM, "previous": "open"}
    bad = client.post(f"/quality/flags/{flag.id}/review", data={"csrf_token": token, "status": "whatever"},
                      follow_redirects=True)
    assert bad.status_code == 200 and "Hãy chọn" in bad.get_data(as_text=True)
    assert client.post("/quality/flags/999999/review", data={"csrf_token": token, "status": GENUINE}).status_code == 404


def test_dashboards_show_how_many_learners_are_flagged(client, make, login, flagged):
    make.learner(full_name="Võ Thị Chậm")  # registered, not flagged
    db.session.commit()
    official = make.staff("province_official")
    login(official)
    commune_page = client.get(f"/statistics/units/{flagged.commune_id}").get_data(as_text=True)
    assert 'id="flagged"' in commune_page and "1 bị gắn cờ" in commune_page
    province_page = client.get(f"/statistics/units/{flagged.province_id}").get_data(as_text=True)
    assert "Người học bị gắn cờ" in province_page and "1 bị gắn cờ" in province_page
    rows = list(csv.reader(io.StringIO(client.get(f"/statistics/units/{flagged.province_id}/units.csv")
                                       .get_data().decode("utf-8-sig"))))
    assert rows[0][-1] == "Người học bị gắn cờ"
    commune_row = next(row for row in rows[1:] if row[0] == flagged.commune.name)
    assert commune_row[-1] == "1" and sum(int(row[-1]) for row in rows[1:]) == 1
    for flag in flags_of(flagged):  # confirmed genuine: no longer counted
        review_flag(flag.id, GENUINE, actor=official)
    db.session.commit()
    assert "0 bị gắn cờ" in client.get(f"/statistics/units/{flagged.commune_id}").get_data(as_text=True)


def test_the_team_export_carries_the_flags(client, make, login, flagged):
    make.learner(full_name="Võ Thị Chậm")
    db.session.flush()
    login(make.staff("team_member"))
    rows = list(csv.reader(io.StringIO(client.get("/team/learners/export.csv").get_data().decode("utf-8-sig"))))
    assert rows[0][-1] == "Cờ chất lượng dữ liệu"
    by_name = {row[0]: row[-1] for row in rows[1:]}
    assert "Học xong khóa học quá nhanh" in by_name["Phạm Văn Nhanh"]
    assert by_name["Võ Thị Chậm"] == ""


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_the_printed_report_carries_the_flagged_column(client, make, login, flagged):
    db.session.commit()
    login(make.staff("province_official"))
    pdf = client.get(f"/statistics/units/{flagged.province_id}/report.pdf").get_data()
    text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "Người học bị gắn cờ" in " ".join(text.split())
    line = next(line for line in text.splitlines() if line.startswith(flagged.commune.name))
    assert line.split()[-1] == "1"


def test_a_village_page_counts_its_own_flagged_learners(client, make, login):
    village = make.village(name="Thôn Cờ")
    learner = make.learner(full_name="Đỗ Văn Làng", village=village).learner
    complete_course(learner, slow=False)
    db.session.commit()
    login(make.staff("commune_official"))
    assert "1 bị gắn cờ" in client.get(f"/statistics/units/{village.id}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(client.get(f"/statistics/units/{learner.commune_id}/units.csv")
                                       .get_data().decode("utf-8-sig"))))
    assert next(row for row in rows[1:] if row[0] == "Thôn Cờ")[-1] == "1"
