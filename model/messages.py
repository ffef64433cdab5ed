"""Pydantic's validation errors in the words of a scenario file: a key path, the value and what is allowed.

Pydantic says "Input should be greater than or equal to 0" and reports a union's every member
(``pilot.waves.3.date``, ``pilot.waves.3.literal['never']``); a user wrote a TOML key and wants to read
"at least 0" or 'a date such as 2021-03-01 or "never"'. ``explain`` works from the error's type and
context and from the schema itself, so it keeps working when fields are added.
"""

from __future__ import annotations

from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from .errors import MISSING

DATE_EXAMPLE = "2021-03-01"
_WORDS = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text in double quotes",
    "finite_number": "a finite number (not inf or nan)",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def explain(exc: ValidationError, model: type[BaseModel]) -> tuple[str, Any, str]:
    """(key path, value, what is allowed) for the first problem of ``exc``; the union alternatives of the
    same key are joined with "or"."""
    errors = exc.errors()
    located = [(_locate(model, e["loc"]), e) for e in errors]
    (key, where), first = located[0]
    allowed = [_allowed(e, w) for (k, w), e in located if k == key]
    value = MISSING if first["type"] == "missing" and not where.tuple_length else first.get("input")
    if first["type"] == "missing" and where.tuple_length:  # a short array: name the array, not its slot
        key = key.rsplit(".", 1)[0]
    return key, value, " or ".join(dict.fromkeys(allowed))


class _Where:
    """What the schema says about an error's location."""

    def __init__(self) -> None:
        self.fields: list[str] = []  # keys allowed in the enclosing table
        self.table = False  # the location is a table (a model) of its own
        self.array_of_tables = False  # the location is a list of tables
        self.tuple_length = 0  # the location is an item of a fixed-length array of this length


def _locate(model: type[BaseModel], loc: tuple) -> tuple[str, _Where]:
    """The key path of a pydantic location, and what the schema says there. Parts that name a union's
    member (``date``, ``literal['never']``) are no key and are dropped."""
    node: Any = model
    parts: list[str] = []
    where = _Where()
    for part in loc:
        where.tuple_length = 0
        if isinstance(node, type) and issubclass(node, BaseModel):
            where.fields = list(node.model_fields)
            field = node.model_fields.get(str(part))
            node = field.annotation if field else None
        elif get_origin(node) in (Union, UnionType):
            node = None
            continue
        elif get_origin(node) is dict:
            node = get_args(node)[-1]
        elif get_origin(node) in (list, tuple):
            args = get_args(node)
            if get_origin(node) is tuple and args and args[-1] is not Ellipsis:
                where.tuple_length = len(args)
            node = args[0] if args else None
        else:
            node = None
        parts.append(str(part))
    node = _unwrap(node)
    where.table = isinstance(node, type) and issubclass(node, BaseModel)
    if get_origin(node) is list:
        item = _unwrap(get_args(node)[0]) if get_args(node) else None
        where.array_of_tables = isinstance(item, type) and issubclass(item, BaseModel)
    return ".".join(parts), where


def _unwrap(node: Any) -> Any:
    """``X | None`` -> ``X``."""
    if get_origin(node) in (Union, UnionType):
        members = [a for a in get_args(node) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return node


def _allowed(error: dict[str, Any], where: _Where) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        return f"unknown key; allowed here: {', '.join(where.fields)}"
    if kind == "missing":
        if where.tuple_length:
            return f"an array of {where.tuple_length} values"
        return "required table is missing" if where.table else "required key is missing"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, name = bounds[kind]
        return f"{words} {_number(ctx.get(name))}"
    if kind.startswith("date_"):
        return f"a date such as {DATE_EXAMPLE}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", '"')
        return expected if " or " not in expected else f"one of {expected}"
    if kind in ("list_type", "tuple_type"):
        if isinstance(value, dict) and where.array_of_tables:
            return "an array of tables; this is one table: write each entry under its own [[...]] header"
        return "an array such as [1, 2]"
    if kind in ("too_long", "too_short"):
        if where.tuple_length or ctx.get("field_type") == "Tuple":
            length = where.tuple_length or ctx.get("max_length") or ctx.get("min_length")
            return f"an array of {length} values"
        if kind == "too_long":
            return f"at most {ctx.get('max_length')} items"
        return f"at least {ctx.get('min_length')} items"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return (
            "non-empty text" if ctx.get("min_length") == 1 else f"at least {ctx.get('min_length')} characters"
        )
    if kind in ("dict_type", "model_type") and isinstance(value, list) and where.table:
        return "a table: write it under one [...] header, not [[...]]"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return _WORDS.get(kind, error["msg"])


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)
