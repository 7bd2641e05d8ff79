from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from lms.forms import BaseForm, max_length


class SelfCorrectForm(BaseForm):
    full_name = StringField(_l("Full name (as on your ID card)"), validators=[DataRequired(), max_length(120)])
    birth_year = IntegerField(_l("Year of birth"), validators=[Optional(), NumberRange(min=1900, max=2030)])
    village = SelectField(_l("Village or residential group"), choices=[], validators=[Optional()])
