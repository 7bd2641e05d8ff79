from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice

from lms.forms import BaseForm


class LanguageForm(BaseForm):
    language = RadioField(_l("Language"), choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")])
