"""The normalized post and the bus events. Encoding and decoding happen only here."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any, Literal, TypeVar

import msgspec

T = TypeVar("T")
EntityKind = Literal["link", "hashtag", "mention"]
Moderation = Literal["approved", "pending", "hidden", "rejected"]


class Author(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str = ""
    handle: str = ""
    avatar_url: str | None = None


class Entity(msgspec.Struct, frozen=True):
    """A span of the post text, in Unicode code points: text[start:end]."""

    kind: EntityKind
    start: int
    end: int
    value: str  # link target, tag without '#', handle without '@'


class Media(msgspec.Struct, frozen=True, omit_defaults=True):
    url: str
    alt: str = ""
    kind: Literal["image", "video"] = "image"


class Sentiment(msgspec.Struct, frozen=True):
    score: float  # -1 (most negative) to 1
    label: str  # positive | neutral | negative


class Post(msgspec.Struct, frozen=True, omit_defaults=True):
    """One normalized post as every screen shows it."""

    id: str  # stable wall-wide id derived from (source, source_id)
    source: str
    source_id: str
    text: str
    created_at: datetime
    author: Author = Author()
    url: str | None = None
    entities: tuple[Entity, ...] = ()
    media: tuple[Media, ...] = ()
    lang: str | None = None
    held: str | None = None  # why a curator should look before it shows: "content warning: …"
    # Set by the curation writer: enrichment (never scored: None), then the wall's decision.
    sentiment: Sentiment | None = None
    topics: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()
    brand: bool = False  # mentions the wall's own brand terms
    flags: tuple[str, ...] = ()  # safety signals for curators: profanity, spam, near_duplicate, ...
    profanity: tuple[str, ...] = ()  # the shipped list entries behind "profanity" (a wall may allow them)
    status: Moderation = "approved"
    pinned: bool = False  # a curator's pick kept on screen; pin/unpin is an `update` of the post
    # The networks of the posts folded into this card, one entry a copy (docs/folding.md): "also on ...".
    copies: tuple[str, ...] = ()
    # The wall id of the post this one replies to, where the network says (Bluesky's reply.parent): an
    # upvote of a question by reply (docs/qa.md).
    reply_to: str | None = None

    @property
    def visible(self) -> bool:
        return self.status == "approved"


def author_key(post: Post) -> str:
    """The post's author key, as bans, trusted authors and erasure name it ("network:handle", lowercased)."""
    return f"{post.source}:{post.author.handle or post.author.name}".lower()


def post_id(source: str, source_id: str) -> str:
    """Stable id for a post: the same source post always maps to the same id, safe in URLs and the DOM."""
    return hashlib.blake2b(f"{source}\0{source_id}".encode(), digest_size=8).hexdigest()


# Events travel on the bus as JSON objects tagged by "type". The bus assigns the id; it is spliced into
# the frame on the way out (see frame()), so the body is encoded once, by whoever publishes it.


class PostEvent(msgspec.Struct, tag="post", frozen=True):
    post: Post


class UpdateEvent(msgspec.Struct, tag="update", frozen=True):
    post: Post


class RetractEvent(msgspec.Struct, tag="retract", frozen=True):
    post_id: str
    reason: str = "deleted"


class ReloadEvent(msgspec.Struct, tag="reload", frozen=True):
    version: str = ""


class ShownQuestion(msgspec.Struct, frozen=True):
    """The Q&A question the presenter shows (the "qa" scene): its number, text, asker's handle, upvotes."""

    number: int
    text: str
    name: str
    votes: int = 0


class ControlEvent(msgspec.Struct, tag="control", frozen=True):
    """The wall's whole live-control state (presenter and spotlight): the newest one wins.

    Screens compare `spotlight_until` (epoch seconds) with the server clock, so a spotlight ends without
    a timer event; `next_seq` grows by one for each "next" press.
    """

    paused: bool = False
    panic: bool = False
    panic_text: str = ""
    scene: str | None = None
    announcement: str | None = None
    spotlight: Post | None = None
    spotlight_until: float | None = None
    next_seq: int = 0
    countdown_to: float | None = None  # epoch seconds: the countdown scene and widget count to it
    countdown_title: str = ""
    widgets: tuple[str, ...] = ()  # stage widgets shown over every scene: "clock", "countdown", "qr"
    rundown_item: int | None = None  # the id of the rundown item on now (its notes never come here)
    rundown_auto: bool = False  # the server steps the rundown when an item's time is up
    question: ShownQuestion | None = None  # the Q&A question on screen (docs/qa.md)
    meter: bool = False  # the reaction meter overlay (docs/page.md, Reaction meter)


# The display stream: what screens show and resume from. Stats are announced, never in the stream.
Event = PostEvent | UpdateEvent | RetractEvent | ReloadEvent | ControlEvent


# A wall's inbox: what ingest hands the curation writer, which alone decides what the screens show.


class InboxPost(msgspec.Struct, tag="upsert", frozen=True):
    """A post, new or edited at its source. Its status is decided by the writer, never taken from here."""

    post: Post


class InboxDelete(msgspec.Struct, tag="delete", frozen=True):
    post_id: str
    reason: str = "deleted"


class InboxReload(msgspec.Struct, tag="reload", frozen=True):
    """An operator asks every screen of the wall to reload its page."""

    version: str = ""


class InboxDecision(msgspec.Struct, tag="decision", frozen=True):
    """A curator decided on a post: the writer applies the decision the store holds now (so two quick
    decisions end in the newer one, and an entry applied twice changes nothing)."""

    post_id: str


class InboxModeration(msgspec.Struct, tag="moderation", frozen=True):
    """The wall's policy, bans or blocked words changed in the store: the writer reloads them and
    re-evaluates its recent posts (retracting what is now held, showing what is now allowed)."""

    what: str = "policy"  # policy | ban | unban | words | optout: for the log only


class InboxControl(msgspec.Struct, tag="control", frozen=True):
    """A presenter changed the wall's live controls: the writer publishes the state the store holds."""

    op: str = ""  # for the log only


class InboxPoll(msgspec.Struct, tag="poll", frozen=True):
    """A presenter opened, closed or hid a poll (docs/polls.md): the writer starts or stops counting it
    here, in inbox order, so a writer that takes over counts exactly the same votes."""

    poll_id: int
    counting: bool


class InboxErase(msgspec.Struct, tag="erase", frozen=True):
    """An author's data is erased (wall/privacy/erasure.py): the writer retracts these posts and the
    author's recent ones, then erases the author from the bus again (what it committed meanwhile). The
    author is named by a salted hash, so the entry (kept until the inbox is trimmed) holds no handle."""

    post_ids: tuple[str, ...]
    salt: str
    digest: str  # sha256 of salt and author key

    @classmethod
    def of(cls, author: str, post_ids: tuple[str, ...]) -> InboxErase:
        salt = secrets.token_hex(8)
        return cls(post_ids, salt, _salted(salt, author))

    def names(self, author: str) -> bool:
        """Whether this erasure is of `author` (an author key)."""
        return hmac.compare_digest(_salted(self.salt, author), self.digest)


def _salted(salt: str, author: str) -> str:
    return hashlib.sha256(f"{salt}\0{author}".encode()).hexdigest()


InboxEntry = (InboxPost | InboxDelete | InboxReload | InboxDecision | InboxModeration | InboxControl
              | InboxErase | InboxPoll)

class RecentPost(msgspec.Struct, tag="queue", frozen=True, omit_defaults=True):
    """One recent post of a wall as its curation writer last decided it, held ones included.

    The writer keeps the newest of them beside the display stream (in the same atomic commit) for the
    console's queue, for approving a held post and for re-evaluating the screen when the policy changes,
    and sends each change on the wall's queue channel (`Inbox.subscribe_queue`).
    """

    post: Post  # annotated, with the wall's decision: status, pinned, a corrected sentiment label
    arrived: float  # epoch seconds the writer first saw it
    reason: str | None = None  # the rule that holds it (None: approved by the rules, or decided)
    version: int = 0  # the curator's decision version (0: nobody decided yet)
    decided_by: str | None = None
    decided_at: float | None = None
    spotlight_until: float | None = None
    deleted: bool = False  # deleted at its source: never shown again unless the source sends it again
    folded_into: str | None = None  # the card this copy is folded into (docs/folding.md): not a card itself


# The wall's queue channel: recent posts as they change, and the wall's control state.
QueueMessage = RecentPost | ControlEvent

_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(Event)
_inbox_decoder = msgspec.json.Decoder(InboxEntry)
_queue_decoder = msgspec.json.Decoder(QueueMessage)
_recent_decoder = msgspec.json.Decoder(RecentPost)


class BadJSON(ValueError):
    """Untrusted bytes that are not JSON we can use; the message says why, for the sender.

    The one error every decoder of outside input raises: `status` is the HTTP answer it becomes (400 the
    bytes are not usable JSON, 422 valid JSON of the wrong shape), and a socket closes with 1008.
    """

    status = 400


class TooDeep(BadJSON):
    """JSON nested deeper than the decoder recurses."""


class Invalid(BadJSON):
    """Valid JSON of the wrong shape; the message names the field (`... - at `$.posts[1].text``)."""

    status = 422


def decode_untrusted(body: bytes | str, type_: type[T] | Any = Any) -> T:
    """Decode JSON that came from outside (a webhook body, a screen's hello, a console or kiosk request).

    Every untrusted body goes through here, so none can take a node down: whatever the bytes, the result
    is a value of `type_` or a BadJSON. A body nested thousands of levels deep (RecursionError in
    msgspec), a number out of range (an integer of thousands of digits, 1e999), NaN, broken UTF-8: BadJSON
    (400). The wrong shape for `type_`: Invalid (422), naming the path.
    """
    try:
        decoded: T = msgspec.json.decode(body, type=type_)
        return decoded
    except RecursionError:
        raise TooDeep("body is nested too deeply; flatten it (a post is a few levels deep)") from None
    except msgspec.ValidationError as e:
        if str(e).startswith(("Integer value out of range", "Number out of range")):
            raise BadJSON(f"body is not usable JSON: {e}; numbers must fit in 64 bits") from None
        raise Invalid(str(e)) from None
    except msgspec.DecodeError as e:
        if "UTF-8" in str(e):
            raise BadJSON(f"body is not valid JSON: its encoding must be UTF-8 ({e})") from None
        raise BadJSON(f"body is not valid JSON: {e}") from None


def decode_event(body: bytes) -> Event:
    return _event_decoder.decode(body)


# the wall's announced state the shown poll lives in (Bus.announce(kind=...), docs/polls.md)
POLL_KIND = "poll"


def is_poll(body: bytes) -> bool:
    """Whether an announcement is the shown poll (the writer encodes its type first)."""
    return body.startswith(b'{"type":"poll"')


def decode_inbox(body: bytes) -> InboxEntry:
    return _inbox_decoder.decode(body)


def decode_queue(body: bytes) -> QueueMessage:
    return _queue_decoder.decode(body)


def decode_recent(body: bytes) -> RecentPost:
    return _recent_decoder.decode(body)


def encode(obj: object) -> bytes:
    """JSON bytes of an event, a post or any plain value."""
    return _encoder.encode(obj)


def frame(event_id: str, body: bytes) -> bytes:
    """The wire frame for a bus event: its body with the bus id added as the first key."""
    return b'{"id":"' + event_id.encode() + b'",' + body[1:]


def id_key(event_id: str) -> tuple[int, int]:
    """Order of bus ids ("<ms>-<seq>", as Redis Streams assign them)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)
