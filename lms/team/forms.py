from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from lms.forms import BaseForm, ConfirmForm, max_length  # noqa: F401 - ConfirmForm: the team's pages use it too
from lms.numbers import parse_int

SEX_CHOICES = [SelectChoice("", _l("Choose…")), SelectChoice("female", _l("Female")), SelectChoice("male", _l("Male"))]


def _optional_int(value):
    """A select's id; None ("all") when empty or not an id, as a list link with a stale filter shows everything."""
    return parse_int(value, minimum=1) if value not in (None, "") else None


class LearnerForm(BaseForm):
    """One screen to register a learner met in person (also used to correct data)."""

    full_name = StringField(_l("Full name (as on the ID card)"), validators=[DataRequired(), max_length(120)])
    birth_year = IntegerField(_l("Year of birth"), validators=[DataRequired(), NumberRange(min=1900, max=2030)])
    sex = SelectField(_l("Sex"), choices=SEX_CHOICES, validators=[DataRequired()])
    village = SelectField(_l("Village or residential group"), choices=[], validators=[Optional()])
    phone = StringField(_l("Mobile phone (optional)"), validators=[Optional(), max_length(20)])
    national_id = StringField(_l("National ID number (optional)"), validators=[Optional(), max_length(20)])

    def set_villages(self, villages, *, required: bool) -> None:
        first = [] if required else [SelectChoice("", _l("Not known / not listed"))]
        self.village.choices = first + [SelectChoice(str(v.id), v.name) for v in villages]


class RegisterForm(LearnerForm):
    consent = BooleanField(_l("The person has heard the text above and agrees"))
    register_anyway = BooleanField(_l("This is a different person with the same name and birth year: register anyway"))


class EditForm(LearnerForm):
    clear_national_id = BooleanField(_l("Remove the stored ID number"))


class MoveForm(BaseForm):
    commune = SelectField(_l("New commune (same province)"), choices=[], validators=[Optional()])
    commune_code = StringField(_l("Or the 5-digit code of a commune in another province"),
                               validators=[Optional(), max_length(5)])


class UploadForm(BaseForm):
    file = FileField(_l("File (.xlsx or .csv, at most 5 MB)"), validators=[FileRequired()])


class ConfirmImportForm(BaseForm):
    consent = BooleanField(_l("Every person in this file has given consent on the paper form, "
                              "which the team keeps"))


class SearchForm(BaseForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name, phone or last ID digits"), validators=[Optional(), max_length(100)])
    village = SelectField(_l("Village"), coerce=_optional_int, validators=[Optional()], choices=[])
    course = SelectField(_l("Course"), coerce=_optional_int, validators=[Optional()], choices=[])
    status = SelectField(_l("Status"), validators=[Optional()], choices=[
        SelectChoice("", _l("Any status")),
        SelectChoice("not-started", _l("Not started")),
        SelectChoice("in-progress", _l("In progress")),
        SelectChoice("completed", _l("Completed")),
        SelectChoice("certified", _l("Certified")),
    ])
    card = SelectField(_l("Login card"), validators=[Optional()], choices=[
        SelectChoice("", _l("With or without a card")),
        SelectChoice("none", _l("No login card yet")),
    ])


class CardsForm(BaseForm):
    """Print a page of login cards: for ticked learners, or for every learner found."""

    reissue = BooleanField(_l("Also issue new cards to learners who already have a password "
                              "(their current password stops working)"))
