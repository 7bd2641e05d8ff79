"""Every domain's models, imported in one place so Alembic sees the whole schema."""

from lms.accounts.models import ApiToken, LoginFailure, User, team_member_villages  # noqa: F401
from lms.audit.models import AuditEvent  # noqa: F401
from lms.certs.models import Certificate, VerificationMiss  # noqa: F401
from lms.duplicates.models import DuplicateRequest  # noqa: F401
from lms.learners.models import Consent, Learner  # noqa: F401
from lms.learning.models import (  # noqa: F401
    Course,
    Enrollment,
    Lesson,
    LessonProgress,
    ProgressEvent,
    QuizAttempt,
    QuizQuestion,
)
from lms.quality.models import QualityFlag  # noqa: F401
from lms.statistics.models import StatCounter, StatRollup, StatTarget  # noqa: F401
from lms.team.models import LearnerImport  # noqa: F401
from lms.units.models import Unit, UnitChange  # noqa: F401
