from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional

from lms.forms import BaseForm, max_length


class LoginForm(BaseForm):
    login = StringField(_l("Phone number or username"), validators=[DataRequired(), max_length(64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), max_length(200)])
    remember = BooleanField(_l("Stay logged in on this device"))


class SignupForm(BaseForm):
    full_name = StringField(_l("Full name (as on your ID card)"), validators=[DataRequired(), max_length(120)])
    login = StringField(_l("Mobile phone number or a username"), validators=[DataRequired(), max_length(64)])
    password = PasswordField(_l("Password (at least 8 characters)"), validators=[DataRequired(), max_length(200)])
    birth_year = IntegerField(_l("Year of birth"), validators=[Optional(), NumberRange(min=1900, max=2030)])
    sex = SelectField(_l("Sex"), choices=[SelectChoice("", _l("Prefer not to say")), SelectChoice("female", _l("Female")),
                               SelectChoice("male", _l("Male"))],
                      validators=[Optional()])
    village = SelectField(_l("Village or residential group"), choices=[], validators=[Optional()])
    consent = BooleanField()


class ChangePasswordForm(BaseForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), max_length(200)])
    new_password = PasswordField(_l("New password (at least 8 characters)"), validators=[DataRequired(), max_length(200)])


class ChoosePasswordForm(BaseForm):
    """The first password, after logging in with the PIN of a login card."""

    new_password = PasswordField(_l("New password (at least 8 characters)"), validators=[DataRequired(), max_length(200)])
    confirm_password = PasswordField(_l("The same password again"), validators=[DataRequired(), max_length(200)])


class RevokeTokenForm(BaseForm):
    token = IntegerField(validators=[DataRequired()])
