from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Optional

from lms.duplicates.models import DISMISSED, MOVED
from lms.forms import BaseForm, max_length


class FileRequestForm(BaseForm):
    """Sent from the registration page's duplicate message (the match is a signed token)."""

    match = HiddenField(validators=[DataRequired(), max_length(400)])
    full_name = HiddenField(validators=[DataRequired(), max_length(120)])
    note = TextAreaField(_l("Note for the official (optional, no ID numbers)"), validators=[Optional(), max_length(500)])


class ResolveForm(BaseForm):
    outcome = RadioField(_l("What did you find?"), validators=[DataRequired()], choices=[
        SelectChoice(MOVED, _l("The same person, who now lives here: move the existing record to this commune")),
        SelectChoice(DISMISSED, _l("Not the same person, or nothing to change: dismiss the request")),
    ])
    resolution_note = TextAreaField(_l("Note (optional)"), validators=[Optional(), max_length(500)])
