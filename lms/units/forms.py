from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired

from lms.forms import BaseForm, max_length
from lms.units.operations import VILLAGE_TYPES


class VillageForm(BaseForm):
    name = StringField(_l("Village name"), validators=[DataRequired(), max_length(120)])
    division_type = SelectField(_l("Type"), choices=[SelectChoice(t, t) for t in VILLAGE_TYPES], default="thôn")


class RenameVillageForm(BaseForm):
    name = StringField(_l("New name"), validators=[DataRequired(), max_length(120)])
