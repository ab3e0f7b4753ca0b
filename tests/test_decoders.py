"""Hypothesis over every decoder of outside bytes: whatever arrives (huge integers, 1e999, NaN and
Infinity literals, duplicate keys, deep nesting, broken UTF-8, wrong types, unknown fields), each decoder
either gives its type or raises the one documented error (BadJSON, whose status is the 4xx it becomes;
the webhook's InputError for a post it cannot take, a 422). Nothing else escapes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.pipeline import Batch, InputError, PostIn, normalize, parse_posts
from wall.models import BadJSON, decode_untrusted
from wall.web import console, fleet, ws
from wall.web.inputs import origin_host

EXAMPLES = int(os.environ.get("WALL_DECODER_EXAMPLES", "300"))  # per decoder
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
DECODED: dict[str, int] = {}  # decoder -> examples run, printed at the end (pytest -s)

BODIES: list[type[Any]] = [ws.Hello, ws.TimePing, console.DecideBody, console.BulkBody, console.BanBody,
                           console.WordBody, console.PolicyBody, console.SentimentBody, console.ControlBody,
                           fleet.EnrollBody, fleet.ReportBody, fleet.ApproveBody, fleet.AssignBody, PostIn,
                           Batch]
KEYS = sorted({f for t in BODIES for f in t.__struct_fields__} | {"name", "handle", "avatar_url", "kind",
                                                                   "alt", "posts", "t0"})
WORDS = ["hello", "time", "approve", "hide", "pin", "image", "video", "pre", "post", "lobby", "K7-4QX",
         "2026-03-12T08:01:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "https://x.example/a"]


def dumps(value: str) -> str:
    return json.dumps(value)


scalars = st.one_of(
    st.sampled_from(["null", "true", "false", "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E400",
                     "0.1e-99999", "-0", "1.0", "9223372036854775808", "-9223372036854775809",
                     '"\\ud800"', '"\\u0000"', '"\\udfff\\ud800"']),
    st.integers().map(str),
    st.integers(min_value=19, max_value=5000).map(lambda n: "9" * n),  # an integer of thousands of digits
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(WORDS).map(dumps),
    st.text(max_size=30).map(dumps),
)


def containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10))
    objects = st.lists(st.tuples(keys, children), max_size=8).map(  # keys may repeat: duplicate keys
        lambda kv: "{" + ",".join(f"{dumps(k)}:{v}" for k, v in kv) + "}")
    arrays = st.lists(children, max_size=6).map(lambda items: "[" + ",".join(items) + "]")
    return st.one_of(objects, arrays)


json_text = st.recursive(scalars, containers, max_leaves=40)
deep = st.integers(min_value=1, max_value=20_000).map(lambda n: "[" * n + "]" * n)
unbalanced = st.integers(min_value=1, max_value=20_000).map(lambda n: '{"a":' * n)


@st.composite
def broken_utf8(draw: st.DrawFn) -> bytes:
    """Valid JSON text with invalid UTF-8 bytes spliced in somewhere."""
    text = draw(json_text).encode()
    at = draw(st.integers(min_value=0, max_value=len(text)))
    junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]))
    return text[:at] + junk + text[at:]


def listed(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(items, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]")


VALID: dict[str, st.SearchStrategy[str]] = {k: v.map(dumps) for k, v in {
    "id": st.text(min_size=1, max_size=8), "post_id": st.text(min_size=1, max_size=8),
    "text": st.text(max_size=40), "created_at": st.sampled_from(WORDS[-4:-1]),
    "type": st.sampled_from(["hello", "time"]), "action": st.sampled_from(["approve", "hide", "spotlight"]),
    "wall": st.just("lobby"), "code": st.just("K7-4QX"), "mode": st.sampled_from(["pre", "post"]),
    "kind": st.sampled_from(["image", "video"]), "label": st.sampled_from(["positive", "negative"]),
    "url": st.sampled_from(["https://x.example/a", "/demo/a.jpg", "javascript:x", "//evil"]),
    "avatar_url": st.sampled_from(["https://x.example/a", "data:x"]),
}.items()}


def valid(t: mi.Type) -> st.SearchStrategy[str]:
    """JSON text of a valid value of a msgspec type."""
    if isinstance(t, mi.Metadata):
        return valid(t.type)
    if isinstance(t, mi.StrType):
        return st.text(min_size=t.min_length or 0, max_size=min(t.max_length or 20, 20)).map(dumps)
    if isinstance(t, mi.BoolType):
        return st.sampled_from(["true", "false"])
    if isinstance(t, mi.IntType):
        return st.integers(-3, 70).map(str)
    if isinstance(t, mi.FloatType):
        return st.floats(-1e6, 1e6).map(repr)
    if isinstance(t, mi.NoneType):
        return st.just("null")
    if isinstance(t, mi.LiteralType):
        return st.sampled_from([dumps(v) for v in t.values])
    if isinstance(t, mi.DateTimeType):
        return st.sampled_from(WORDS[-4:-1]).map(dumps)
    if isinstance(t, mi.UnionType):
        return st.one_of(*(valid(u) for u in t.types))
    if isinstance(t, (mi.ListType, mi.VarTupleType)):
        return listed(st.deferred(lambda: valid(t.item_type)))
    if isinstance(t, mi.StructType):
        return st.deferred(lambda: shaped(t.cls))
    return json_text  # Any, dict[str, Any]


def shaped(type_: type[Any]) -> st.SearchStrategy[str]:
    """Valid input of a Struct type and its near misses: one field spoiled with a hostile value (or
    missing), sometimes a field repeated or one the type does not know."""
    fields = {f.encode_name: f for f in mi.type_info(type_).fields}  # type: ignore[union-attr]

    def value(name: str) -> st.SearchStrategy[str]:
        return VALID[name] if name in VALID else valid(fields[name].type)

    @st.composite
    def build(draw: st.DrawFn) -> str:
        parts = {name: draw(value(name)) for name, f in fields.items()
                 if f.required or draw(st.booleans())}
        spoil = draw(st.none() | st.sampled_from(sorted(fields)))
        if spoil is not None:
            hostile_value = draw(st.none() | scalars | json_text)
            parts.pop(spoil, None) if hostile_value is None else parts.__setitem__(spoil, hostile_value)
        entries = [f"{dumps(k)}:{v}" for k, v in parts.items()]
        extra = draw(st.none() | st.sampled_from([*fields, "unknown"]))
        if extra is not None:
            entries.append(f"{dumps(extra)}:{draw(scalars)}")
        return "{" + ",".join(entries) + "}"

    return build()


hostile = st.one_of(json_text.map(str.encode), deep.map(str.encode), unbalanced.map(str.encode),
                    broken_utf8(), st.binary(max_size=200))


@pytest.fixture(scope="module", autouse=True)
def examples_run() -> Iterator[None]:
    """The number of examples each decoder ran, for the record (pytest -s shows it)."""
    yield
    print(f"\nHypothesis examples per decoder (WALL_DECODER_EXAMPLES={EXAMPLES} each):")
    for name, n in DECODED.items():
        print(f"  {n:6d}  {name}")


def count(name: str) -> None:
    DECODED[name] = DECODED.get(name, 0) + 1


@FUZZ
@given(type_=st.sampled_from([Any, *BODIES]), data=st.data())
def test_every_json_body_decodes_or_is_refused_with_a_4xx(type_: Any, data: st.DataObject) -> None:
    count("decode_untrusted (JSON bodies, the screens' hello and time pings)")
    near = shaped(type_).map(str.encode) if type_ is not Any else hostile
    body = data.draw(st.one_of(near, hostile), label="body")
    try:
        value = decode_untrusted(body, type_)
    except BadJSON as e:
        assert e.status in (400, 422) and str(e)
        return
    if type_ is not Any:
        assert isinstance(value, type_)


@FUZZ
@given(body=st.one_of(shaped(PostIn).map(str.encode), shaped(Batch).map(str.encode), hostile))
def test_every_webhook_body_becomes_posts_or_a_4xx(body: bytes) -> None:
    count("the webhook: parse_posts and normalize")
    try:
        posts = parse_posts(body)
    except (BadJSON, InputError) as e:
        assert str(e)
        return
    now = datetime.now(UTC)
    for p in posts:
        post = normalize("hook", p, now)
        assert post.created_at <= now


@FUZZ
@given(frame=st.one_of(json_text, st.text(max_size=100), deep))
def test_every_time_ping_gets_an_answer_or_none(frame: str) -> None:
    count("a screen's time ping")
    reply = ws.time_reply(frame)
    if reply is not None:
        answer = msgspec.json.decode(reply)
        assert answer["type"] == "time"


@FUZZ
@given(origin=st.one_of(st.text(max_size=40), st.sampled_from(["http://[", "http://[::1", "https://[x]:80",
                                                               "null", "http://a:99999"])))
def test_every_origin_header_names_a_host_or_none(origin: str) -> None:
    count("the Origin header")
    found = origin_host(origin)
    assert found is None or isinstance(found, str)
