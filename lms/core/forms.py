from flask_babel import lazy_gettext as _l
from wtforms import RadioField

from lms.forms import BaseForm


class LanguageForm(BaseForm):
    language = RadioField(_l("Language"), choices=[("vi", "Tiếng Việt"), ("en", "English")])
