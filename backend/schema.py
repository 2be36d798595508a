"""OpenAPI post-processing: every operation documents the error answers it can give.

All errors share one body (``application/problem+json``, see ``backend/errors.py``):
this hook adds that ``Problem`` component and the 400/401/403/404/405/409/410/
422/429/503 responses to every operation that does not describe them itself,
so the schema is true for clients and schema-driven fuzzing.
"""

from __future__ import annotations

from typing import Any

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
