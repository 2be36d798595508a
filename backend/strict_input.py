"""Input is read as the schema states it, and within bounds, whichever field reads it.

``install()`` (called once from ``BackendConfig.ready``) sets these rules on
DRF's field classes, so every serializer field follows them, declared or
generated from a model, and on Django's form fields for the admin and the
console's sign-in:

- JSON text fields take text. ``CharField`` (and ``EmailField`` and the other
  subclasses) would turn a JSON number into its digits (``"name": 12`` saved as
  ``"12"``) although the schema says ``type: string``; a client that sent a
  number where text belongs has a bug it should hear about.
- JSON boolean fields take ``true`` or ``false``. ``BooleanField`` would read
  ``0`` and ``1`` as false and true although the schema says ``type:
  boolean``. (Forms and query strings send text, ``"true"``, which stays
  accepted.)
- Text holds no control characters (tab, line feed and carriage return
  excepted): they are invisible on screen, and a spreadsheet refuses them.
- Dates and times are in the years 1900-2200 (``backend.fields.in_year_range``):
  wide enough for any birth date or booking, narrow enough that a visit's
  length, a zone's offset or a report's period never overflows.
- A list holds at most ``MAX_ITEMS`` entries unless its field says fewer, and
  the count is checked before any entry is read (10,000 appointment ids would
  otherwise be 10,000 lookups).
- An empty query-string value is a value. The API parses JSON only, so the
  query string is the only form-style input left; DRF reads ``?as_of=`` as
  "not given" (or null), so a client whose parameter came out empty would get
  an answer for the default instead. Here it is validated like any other value
  (a date, an id or a choice cannot be empty). Text fields still take "".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from rest_framework import relations, serializers
from rest_framework.utils import html

from backend.fields import YEAR_RANGE_MESSAGE, in_year_range

NOT_TEXT = "Not valid text: send a string."
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
HAS_CONTROL_CHARACTERS = "Remove the control characters (invisible characters such as U+0007) from this text."
MAX_ITEMS = 100
TOO_MANY_ITEMS = "Send at most {limit} items."

_INSTALLED = "_strict_input_installed"


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def _text_only(original: Callable[..., Any]) -> Callable[..., Any]:
    def to_internal_value(self: serializers.CharField, data: Any) -> str:
        if isinstance(data, int | float):  # bool is an int: refused too
            raise serializers.ValidationError(NOT_TEXT, code="invalid")
        text: str = original(self, data)
        if has_control_characters(text):
            raise serializers.ValidationError(HAS_CONTROL_CHARACTERS, code="control_characters")
        return text

    return to_internal_value


NOT_BOOLEAN = "Not a boolean: send true or false."


def _boolean_only(original: Callable[..., Any]) -> Callable[..., Any]:
    def to_internal_value(self: serializers.BooleanField, data: Any) -> bool:
        if isinstance(data, int | float) and not isinstance(data, bool):
            raise serializers.ValidationError(NOT_BOOLEAN, code="invalid")
        result: bool = original(self, data)
        return result

    return to_internal_value


def _form_text(original: Callable[..., Any]) -> Callable[..., Any]:
    def to_python(self: forms.CharField, value: Any) -> Any:
        text = original(self, value)
        if isinstance(text, str) and has_control_characters(text):
            raise forms.ValidationError(HAS_CONTROL_CHARACTERS, code="control_characters")
        return text

    return to_python


def _in_years(original: Callable[..., Any], error: Any) -> Callable[..., Any]:
    def read(self: Any, value: Any) -> Any:
        parsed = original(self, value)
        if parsed is not None and not in_year_range(parsed):
            raise error(YEAR_RANGE_MESSAGE, code="year_range")
        return parsed

    return read


def _bounded(original: Callable[..., Any]) -> Callable[..., Any]:
    def to_internal_value(self: Any, data: Any) -> Any:
        limit = getattr(self, "max_length", None) or MAX_ITEMS
        if isinstance(data, list | tuple) and len(data) > limit:
            raise serializers.ValidationError(TOO_MANY_ITEMS.format(limit=limit), code="max_length")
        return original(self, data)

    return to_internal_value


_original_get_value = serializers.Field.get_value


def _empty_is_a_value(self: serializers.Field, dictionary: Any) -> Any:
    if (
        html.is_html_input(dictionary)
        and dictionary.get(self.field_name) == ""
        and not isinstance(self, serializers.CharField)
    ):
        return ""
    return _original_get_value(self, dictionary)


def install() -> None:
    if getattr(serializers.Field, _INSTALLED, False):
        return
    setattr(serializers.Field, _INSTALLED, True)
    serializers.Field.get_value = _empty_is_a_value  # type: ignore[method-assign]
    serializers.CharField.to_internal_value = _text_only(serializers.CharField.to_internal_value)  # type: ignore[method-assign]
    serializers.BooleanField.to_internal_value = _boolean_only(serializers.BooleanField.to_internal_value)  # type: ignore[method-assign]
    forms.CharField.to_python = _form_text(forms.CharField.to_python)  # type: ignore[method-assign]
    for field in (serializers.DateField, serializers.DateTimeField):
        field.to_internal_value = _in_years(field.to_internal_value, serializers.ValidationError)  # type: ignore[method-assign]
    for form_field in (forms.DateField, forms.DateTimeField):
        form_field.to_python = _in_years(form_field.to_python, forms.ValidationError)  # type: ignore[method-assign]
    for many in (serializers.ListField, serializers.ListSerializer, relations.ManyRelatedField):
        many.to_internal_value = _bounded(many.to_internal_value)  # type: ignore[method-assign]
