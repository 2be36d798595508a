"""Hostile values in every field of every operation of ``/api/schema/``: never a server error.

Schemathesis (test_fuzzing.py) explores what the schema allows and a little beyond; this sweep sends, on
purpose, what broke the API before: JSON nested thousands deep, years 1 and 9999 in every date and time,
zone names that are not places, money spelled every wrong way, lists of thousands of ids, control
characters and very long text. One field at a time, on real records' paths, as an admin (who reaches
every operation); each request is rolled back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.security.world import REFERENCES, FuzzWorld, fuzz_world, rolled_back_request

__all__ = ["fuzz_world"]  # the fixture, imported for the tests below

DATES = ["0001-01-01", "9999-12-31", "1899-12-31"]
DATETIMES = ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "2026-13-01T00:00:00Z"]
LOCAL_DATETIMES = ["0001-01-01T00:00", "9999-12-31T23:59"]
MONEY = ["1e3", "1_000.00", "\u0661\u0660\u0660", " 1.00", "9999999999.99", "NaN", "-0.0001"]
TEXT = ["\x07", "\x00", "Factory", "localtime", "Etc/GMT+5", "a" * 10_000]
INTEGERS = [10**30, -(10**30)]
ZERO_ID = "00000000-0000-0000-0000-000000000000"
DEEP = "[" * 5000


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node or "allOf" in node or "oneOf" in node:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        else:
            node = (node.get("allOf") or node["oneOf"])[0]
    return node


def hostile_values(name: str, node: dict[str, Any], ids: dict[str, str]) -> list[Any]:
    kind, form = node.get("type"), node.get("format")
    if kind == "array":
        item = ids.get(REFERENCES.get(name, ""), ZERO_ID)
        return [[item] * 5000, [{"a": 1}] * 5000]
    if kind == "integer":
        return INTEGERS
    if kind == "object":
        return [json.loads('{"a": ' + "[" * 20 + "]" * 20 + "}")]
    if kind != "string":
        return []
    if form == "date":
        return DATES
    if form == "date-time":
        return DATETIMES
    if form == "decimal":
        return MONEY
    if "pattern" in node and "T" in node["pattern"]:
        return LOCAL_DATETIMES
    return TEXT


def operations() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    schema = _schema()
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch"}:
                yield path, method, operation, schema


OPERATIONS = list(operations())


def real_path(path: str, world: FuzzWorld) -> str:
    resource = path.removeprefix("/api/v1/").split("/")[0]

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name == "date":
            return world.closure_date
        if name == "location_id":
            return world.ids["locations"]
        return world.ids.get(resource, ZERO_ID)

    return re.sub(r"\{(\w+)\}", value, path)


def requests_for(path: str, method: str, operation: dict[str, Any], schema: dict[str, Any],
                 world: FuzzWorld) -> Iterator[tuple[str, Any]]:  # fmt: skip
    """(field, value) pairs: each parameter or body property with each of its hostile values."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query":
            for value in hostile_values(parameter["name"], _resolve(schema, parameter.get("schema", {})), world.ids):
                if not isinstance(value, list | dict):
                    yield f"?{parameter['name']}", value
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is None:
        return
    yield "<body>", DEEP
    node = _resolve(schema, body["schema"])
    if node.get("type") == "array":
        yield "<body>", [node] * 5000
        node = _resolve(schema, node["items"])
    for name, property_node in node.get("properties", {}).items():
        resolved = _resolve(schema, property_node)
        if not resolved.get("readOnly"):
            for value in hostile_values(name, resolved, world.ids):
                yield name, value


def send(client: Client, method: str, url: str, field: str, value: Any, *, headers: dict[str, str]) -> int:
    if field.startswith("?"):
        url, body = f"{url}?{urlencode({field[1:]: value})}", "" if method == "get" else "{}"
    elif field == "<body>":
        body = value if isinstance(value, str) else json.dumps(value)
    else:
        body = json.dumps({field: value})
    return client.generic(method.upper(), url, body, "application/json", headers=headers).status_code


@pytest.mark.parametrize(("path", "method", "operation", "schema"), OPERATIONS,
                         ids=[f"{method.upper()} {path}" for path, method, _, _ in OPERATIONS])  # fmt: skip
def test_no_hostile_value_reaches_a_server_error(path: str, method: str, operation: dict[str, Any],
                                                 schema: dict[str, Any], fuzz_world: FuzzWorld) -> None:  # fmt: skip
    cache.clear()
    client = Client(raise_request_exception=False)
    url = real_path(path, fuzz_world)
    headers = fuzz_world.headers("staff")
    errors = []
    sent = 0
    for field, value in requests_for(path, method, operation, schema, fuzz_world):
        with rolled_back_request():
            status = send(client, method, url, field, value, headers=headers)
        sent += 1
        if status >= 500:
            errors.append((field, repr(value)[:60], status))
    assert not errors, errors
    takes_input = operation.get("requestBody") or any(p["in"] == "query" for p in operation.get("parameters", []))
    assert sent or not takes_input
