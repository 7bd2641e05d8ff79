"""Form base: every text a person types is normalised before validation.

NFC, control and invisible characters removed, spaces collapsed (lms.text.clean_text),
so "Nguyễn" typed in NFD and "Nguyễn" in NFC are the same name everywhere.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField

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
