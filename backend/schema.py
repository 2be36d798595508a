"""OpenAPI post-processing, so the schema is true for clients and for schema-driven fuzzing.

- Every operation documents the error answers it can give. All errors share one
  body (``application/problem+json``, see ``backend/errors.py``): the ``Problem``
  component and the 400/401/403/404/405/409/410/422/429/503 responses are added
  to every operation that does not describe them itself.
- Wall-clock times (``format: time``) are written ``HH:MM`` or ``HH:MM:SS`` without
  an offset (``TIME_INPUT_FORMATS``); the schema says so with a pattern.
- drf-spectacular's decimal patterns also match "", "-" and "."; they are
  tightened to need at least one digit.
"""

from __future__ import annotations

import re
from typing import Any

# Hours 0-23 and minutes/seconds 0-59, one or two digits each, as strptime's %H:%M[:%S] reads them.
LOCAL_TIME_PATTERN = r"^([01]?\d|2[0-3]):[0-5]?\d(:[0-5]?\d)?$"
LOCAL_DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T([01]?\d|2[0-3]):[0-5]?\d(:[0-5]?\d)?$"
# drf-spectacular's pattern for DecimalField: ^-?\d{0,N}(?:\.\d{0,M})?$ (matches "", "-" and ".").
LOOSE_DECIMAL = re.compile(
    re.escape(r"^-?\d{0,") + r"(\d+)" + re.escape(r"}(?:\.\d{0,") + r"(\d+)" + re.escape(r"})?$") + "$"
)

PROBLEM = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details with a stable code.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
    "required": ["type", "title", "status", "detail", "code", "errors"],
    "additionalProperties": True,
}
ERRORS = {
    "400": "Malformed input (validation_error); errors maps fields to messages",
    "401": "No or bad credentials, or an expired token",
    "403": "The role may not do this",
    "404": "No such record, or one the caller may not know exists",
    "405": "Method not allowed",
    "409": "Conflict with the current state (booking_conflict, invoice_immutable, ...)",
    "410": "Gone (an expired export)",
    "422": "Well-formed but not possible (not_cleared, invalid_amount, ...)",
    "429": "Rate limited; see Retry-After",
    "503": "The database is unreachable; nothing was changed",
}


def _tighten(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time" and node.get("type") == "string":
            del node["format"]
            node["pattern"] = LOCAL_TIME_PATTERN
        pattern = node.get("pattern")
        loose = LOOSE_DECIMAL.match(pattern) if isinstance(pattern, str) else None
        if loose:
            whole, places = loose.groups()
            node["pattern"] = rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
        for value in node.values():
            _tighten(value)
    elif isinstance(node, list):
        for value in node:
            _tighten(value)


def tighten_formats(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    _tighten(result)
    return result


def add_problem_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    reference = {"$ref": "#/components/schemas/Problem"}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/problem+json": {"schema": reference}},
                })  # fmt: skip
    return result
