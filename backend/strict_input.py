"""Input is read as the schema states it, not as DRF's HTML-form leniency would.

``install()`` (called once from ``BackendConfig.ready``) changes two of DRF's
readings for every serializer field, declared or generated:

- JSON text fields take text. ``CharField`` (and ``EmailField`` and the other
  subclasses) would turn a JSON number into its digits (``"name": 12`` saved as
  ``"12"``) although the schema says ``type: string``; a client that sent a
  number where text belongs has a bug it should hear about.
- An empty query-string value is a value. The API parses JSON only, so the
  query string is the only form-style input left; DRF reads ``?as_of=`` as
  "not given" (or null), so a client whose parameter came out empty would get
  an answer for the default instead. Here it is validated like any other value
  (a date, an id or a choice cannot be empty). Text fields still take "".
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.utils import html

NOT_TEXT = "Not valid text: send a string."

_original = serializers.CharField.to_internal_value


def _text_only(self: serializers.CharField, data: Any) -> str:
    if isinstance(data, int | float):  # bool is an int: refused too
        raise serializers.ValidationError(NOT_TEXT, code="invalid")
    return _original(self, data)


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
    if serializers.CharField.to_internal_value is not _text_only:
        serializers.CharField.to_internal_value = _text_only  # type: ignore[method-assign,assignment]
    if serializers.Field.get_value is not _empty_is_a_value:
        serializers.Field.get_value = _empty_is_a_value  # type: ignore[method-assign]
