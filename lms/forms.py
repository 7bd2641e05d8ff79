"""Form base: every text a person types is normalised before validation.

NFC, control and invisible characters removed, spaces collapsed (lms.text.clean_text),
so "Nguyễn" typed in NFD and "Nguyễn" in NFC are the same name everywhere.
"""

from __future__ import annotations

from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.text import clean_text


def _clean_line(value):
    return clean_text(value) if isinstance(value, str) else value


def _clean_block(value):
    return clean_text(value, multiline=True) if isinstance(value, str) else value


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                cleaner = _clean_block if issubclass(field_class, TextAreaField) else _clean_line
                filters = list(unbound_field.kwargs.get("filters", ()))
                unbound_field.kwargs["filters"] = [cleaner, *filters]
            return unbound_field.bind(form=form, **options)


def N_(message: str) -> str:  # noqa: N802 - gettext convention: mark for extraction only
    return message


# WTForms ships no Vietnamese catalog, so the messages of its validators that our forms
# can show are translated in our own catalog (marked here for extraction).
WTFORMS_MESSAGES = (
    N_("This field is required."),
    N_("Not a valid integer value."),
    N_("Not a valid choice."),
    N_("Invalid Choice: could not coerce."),
    N_("Number must be between %(min)s and %(max)s."),
    N_("Number must be at least %(min)s."),
    N_("Number must be at most %(max)s."),
    N_("Not a valid date value."),
)


def show_error(form, error) -> None:
    """Show an operation's error (lms.errors.DomainError) on its field, or on the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class ConfirmForm(BaseForm):
    """A tick that confirms a step which cannot be undone (withdrawal, deletion, card reissue)."""

    confirm = BooleanField(_l("Yes, I understand"), validators=[DataRequired()])


def max_length(limit: int) -> Length:
    """Length check with a message in our catalog (WTForms' own is plural-only)."""
    return Length(max=limit, message=_l("Use at most %(max)d characters."))


class _CatalogTranslations:
    """WTForms asks its form for gettext/ngettext; answer from our catalog."""

    # WTForms formats the result itself (with %(min)s…), so no formatting here.
    def gettext(self, string: str) -> str:
        return get_translations().gettext(string) if string else string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ngettext(singular, plural, n)


def _get_translations(self, form):
    return _CatalogTranslations()


BaseForm.Meta.get_translations = _get_translations
