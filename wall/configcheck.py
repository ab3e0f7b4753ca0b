"""One translator from msgspec's validation errors to config problems, "key.path: what is wrong; the fix",
for every section of the config (wall/config.py) and every source's options (ingest/registry.py).

A section is a frozen msgspec Struct that forbids unknown fields and carries its limits (`msgspec.Meta`);
its `description`, when set, is added to an out-of-range message as the hint.
"""

from __future__ import annotations

import difflib
import re
import typing
from typing import Any, Literal, TypeVar

import msgspec

T = TypeVar("T", bound=msgspec.Struct)
_AT = re.compile(r"^(?P<said>.*?)(?: - at `\$(?P<where>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"Object contains unknown field `(?P<key>[^`]+)`")
_MISSING = re.compile(r"Object missing required field `(?P<key>[^`]+)`")
_TYPE = re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`")
_RANGE = re.compile(r"Expected `(?P<want>[^`]+)` (?P<limit>(?:of length )?[<>]=? \S+)$")
_PATTERN = re.compile(r"Expected `str` matching regex ")
_ENUM = re.compile(r"Invalid enum value (?P<value>.+)$")
_WORDS = {"object": "a table", "array": "an array", "str": "a string", "int": "an integer",
          "float": "a number", "bool": "a boolean", "null": "nothing"}


def convert(raw: object, struct: type[T], path: str, problems: list[str]) -> T | None:
    """`raw` (a TOML table) as `struct`; on problems, each is added to `problems` and the result holds
    the keys that are right (or is None). msgspec stops at the first error, so after one each key is
    tried on its own to report all of them."""
    try:
        return msgspec.convert(raw, struct)
    except msgspec.ValidationError as e:
        first = problem(str(e), path, struct, raw)
    found: list[str] = []
    good: dict[str, Any] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            try:
                msgspec.convert({key: value}, struct)
                good[key] = value
            except msgspec.ValidationError as e:
                if not _MISSING.match(str(e)):  # a required key is missing only from this one-key table
                    found.append(problem(str(e), path, struct, raw))
                else:
                    good[key] = value
    problems.extend(found or [first])
    try:  # the keys that are right, so that checks after this one still see them
        return msgspec.convert(good, struct) if found else None
    except msgspec.ValidationError:
        return None


def problem(said: str, path: str, struct: type, raw: object = None) -> str:
    """msgspec's words ("Expected `int` >= 0 - at `$.port`") as "key.path: what is wrong; the fix"."""
    m = _AT.match(said)
    assert m is not None  # the pattern matches any text
    where, message = m.group("where") or "", m.group("said")
    key = where[1:].split("[", 1)[0].split(".", 1)[0] if where.startswith(".") else ""
    at = f"{path}{where}".lstrip(".")
    if unknown := _UNKNOWN.match(message):
        name = unknown.group("key")
        if where:  # inside a nested table: its keys are not the struct's own
            return f"{at}.{name}: unknown key; remove it"
        known = sorted(getattr(struct, "__struct_encode_fields__", ()))  # as written in the file (renamed)
        hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        fix = f"did you mean '{hint[0]}'?" if hint else (
            f"known keys: {', '.join(known)}" if known else "this takes no keys")
        return f"{path}.{name}: unknown key; {fix}".lstrip(".")
    if missing := _MISSING.match(message):
        return f"{at}.{missing.group('key')}: missing; add it".lstrip(".")
    top = isinstance(raw, dict) and where == f".{key}"  # the value is at hand only for a key of `raw`
    value = raw.get(key) if isinstance(raw, dict) and top else None
    it = f"{value!r} is" if top else "it is"
    if kind := _TYPE.match(message):
        shown = f" {value!r}" if value is not None and not isinstance(value, dict | list) else ""
        expected, got = (_WORDS.get(kind.group(g), kind.group(g)) for g in ("want", "got"))
        table = f" ([{at}])" if kind.group("want") == "object" else ""
        return f"{at}: expected {expected}{table}, got {got}{shown}"
    if limit := _RANGE.match(message):
        use = _WORDS.get(limit.group("want"), limit.group("want"))
        note = _meta(struct, key).description if key else None
        return f"{at}: {it} out of range; use {use} {limit.group('limit')}" + (
            f" ({note})" if note else "")
    if _PATTERN.match(message):
        return f"{at}: {it} not valid; use {_meta(struct, key).description or message}"
    if (enum := _ENUM.match(message)) and (choices := _choices(struct, key)):
        return f"{at}: {enum.group('value')} is not allowed; use one of {', '.join(map(str, choices))}"
    return f"{at}: {message[0].lower() + message[1:]}"


def _hint(struct: type, key: str) -> Any:
    try:
        return typing.get_type_hints(struct, include_extras=True).get(key)
    except (NameError, TypeError):  # an annotation that does not resolve here: no hint, a plainer message
        return None


def _meta(struct: type, key: str) -> msgspec.Meta:
    for extra in getattr(_hint(struct, key), "__metadata__", ()):
        if isinstance(extra, msgspec.Meta):
            return extra
    return msgspec.Meta()


def _choices(struct: type, key: str) -> tuple[object, ...]:
    hint = _hint(struct, key)
    while hint is not None and typing.get_origin(hint) is not Literal:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if args else None
    return typing.get_args(hint) if hint is not None else ()


def secret_keys(struct: type) -> dict[str, bool]:
    """The fields that hold a secret read from the environment (`Annotated[str | None, SECRET]`), each
    with whether it must be hard to guess: the file names the variable at `<field>_env`."""
    extras = {key: _meta(struct, key).extra or {} for key in getattr(struct, "__struct_fields__", ())}
    return {key: bool(extra.get("strong")) for key, extra in extras.items() if extra.get("secret")}


SECRET = msgspec.Meta(extra={"secret": True})  # a token of someone else's (a monitor's)
STRONG_SECRET = msgspec.Meta(extra={"secret": True, "strong": True})  # ours: must be hard to guess
