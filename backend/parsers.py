"""The API's one request parser: JSON, bounded in nesting.

The body's size is bounded before anything reads it (``ApiProblemMiddleware``
answers 413 above ``DATA_UPLOAD_MAX_MEMORY_SIZE``). Nesting is bounded here:
no request of this API nests deeper than a few levels, and Python's decoder
would otherwise fail on a few thousand ``[`` with a RecursionError (a 500).
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 16
TOO_DEEP = f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), without recursion."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            if depth + 1 > MAX_JSON_DEPTH:
                break
            pending.extend((child, depth + 1) for child in item)
    return deepest


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(TOO_DEEP)
        return data
