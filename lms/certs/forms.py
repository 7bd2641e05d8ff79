from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from lms.certs.queries import ALL, NOT_HANDED_OVER, REVOKED, UNPRINTED
from lms.forms import BaseForm, max_length
from lms.numbers import parse_int


class VerifyForm(BaseForm):
    """Typed on the public verification page; a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    code = StringField(_l("Verification code"), validators=[DataRequired(), max_length(40)])


class ReasonForm(BaseForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), max_length(500)])


def _optional_int(value):
    """A select's id, None for "all" (empty); anything else is refused ("could not coerce": 422)."""
    if value in (None, ""):
        return None
    number = parse_int(value, minimum=1)
    if number is None:
        raise ValueError(value)
    return number


class CertificateFilterForm(BaseForm):
    """Filters of the staff list, read from the query string (and repeated in bulk-mark forms)."""

    class Meta:
        csrf = False

    village = SelectField(_l("Village"), coerce=_optional_int, validators=[Optional()])
    date_from = DateField(_l("Completed from"), validators=[Optional()])
    date_to = DateField(_l("Completed until"), validators=[Optional()])
    status = SelectField(_l("Show"), default=UNPRINTED, choices=[
        SelectChoice(UNPRINTED, _l("Not printed yet")),
        SelectChoice(NOT_HANDED_OVER, _l("Not handed over yet")),
        SelectChoice(ALL, _l("All valid certificates")),
        SelectChoice(REVOKED, _l("Revoked certificates")),
    ])

    def set_villages(self, villages) -> None:
        self.village.choices = [SelectChoice("", _l("All villages"))] + [
            SelectChoice(str(v.id), v.name) for v in villages]
