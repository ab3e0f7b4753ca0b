"""The store's one schema, as SQLAlchemy Core tables (the queries' view of what the migrations build).

Times are epoch seconds (float) everywhere, as in the rest of the project: no time zones to get wrong
and the same type on SQLite and PostgreSQL. Actors (`created_by`, `decided_by`, `by`, `actor`) are
usernames kept as text, not foreign keys, so removing a user never rewrites the record of what they did.
A test compares this module with the migrated database, so the two cannot drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.CheckConstraint("role IN ('admin', 'curator', 'presenter')", name="role"),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # sha256 hex of the token: the token is never stored
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False),
)

# Login throttling (wall/store/logins.py): one counter per (scope, username, source); scope is "pair"
# (username, address), "device" (username, a device cookie's sha256), "account" (username, "") or
# "address" ("", address).
login_throttles = sa.Table(
    "login_throttles", metadata,
    sa.Column("scope", sa.String(8), primary_key=True),
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("blocked_until", sa.Float, nullable=False),
    sa.Column("last_failure", sa.Float, nullable=False),
    sa.Index("ix_login_throttles_username", "username"),
)

# Browsers that logged in to an account before: the device cookie's sha256 (the token is never stored).
login_devices = sa.Table(
    "login_devices", metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("device_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used", sa.Float, nullable=False),
)

walls_policy = sa.Table(
    "walls_policy", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("mode", sa.String(8), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.CheckConstraint("mode IN ('auto', 'pre')", name="mode"),
)

rules = sa.Table(
    "rules", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wall", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("post_id", sa.String(255), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("pinned", sa.Boolean, nullable=False),
    sa.Column("spotlight_until", sa.Float, nullable=True),
    sa.Column("sentiment_label", sa.String(16), nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("decided_at", sa.Float, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.CheckConstraint("status IN ('approved', 'rejected', 'hidden', 'pending')", name="status"),
)

bans = sa.Table(
    "bans", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),  # '*' bans the author on every wall
    sa.Column("author", sa.String(255), primary_key=True),  # network:handle
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("by", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)

optouts = sa.Table(
    "optouts", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("author", sa.String(255), primary_key=True),  # network:handle
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("by", sa.String(64), nullable=False),  # the admin, or "author" (the opt-out tag)
    sa.Column("since", sa.Float, nullable=False),
    sa.Column("until", sa.Float, nullable=False),
    sa.CheckConstraint("reason IN ('tag', 'request')", name="reason"),
)

blocked_words = sa.Table(
    "blocked_words", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("word", sa.String(255), primary_key=True),
)

display_keys = sa.Table(
    "display_keys", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wall", sa.String(64), nullable=False, index=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(255), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("wall", sa.String(64), nullable=True, index=True),
    sa.Column("target", sa.String(255), nullable=True),
    sa.Column("before", sa.JSON, nullable=True),
    sa.Column("after", sa.JSON, nullable=True),
)

cursors = sa.Table(
    "cursors", metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

seen = sa.Table(
    "seen", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("post_id", sa.String(255), primary_key=True),
    sa.Column("digest", sa.String(128), nullable=False),
    sa.Column("at", sa.Float, nullable=False, index=True),
)

stats_rollups = sa.Table(
    "stats_rollups", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True),  # epoch seconds of the bucket's start
    sa.Column("payload", sa.JSON, nullable=False),
)

# What the screens showed (wall/store/display_log.py): per post, when it was first on a screen, the seconds
# it was on screens (summed over them), and which screens showed it as a bitmap of their numbers (`seen`;
# `screens` is its count), so the count stays distinct across the nodes' flushes at a few bytes a post. A
# wall's screens are numbered in display_screens (a digest of a random id the page makes, nothing about a
# person); a number is free again once its screen was not seen for the wall's `posts` retention. Both go
# with that retention, and the posts' rows with an author's erasure.
display_log = sa.Table(
    "display_log", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("post_id", sa.String(255), primary_key=True),
    sa.Column("first_shown", sa.Float, nullable=False),
    sa.Column("last_shown", sa.Float, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("screens", sa.Integer, nullable=False),
    sa.Column("seen", sa.LargeBinary, nullable=False),  # bit n: the wall's screen number n showed it
    sa.Index("ix_display_log_wall_first_shown", "wall", "first_shown"),
)

display_screens = sa.Table(
    "display_screens", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("screen", sa.String(64), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.UniqueConstraint("wall", "n", name="uq_display_screens_wall_n"),
)

# Roll-ups (wall/store/rollups.py): the wall's figures kept for months, one row per counter of a bucket of
# `span` seconds (60: minute, 3600: hour, 86400: day) starting at `bucket` (epoch seconds, UTC). Counts
# only; the "author:" counters name people, so erasure and retention reach them (docs/rollups.md).
rollups = sa.Table(
    "rollups", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("span", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,  # the key is the row: half the size on SQLite
)

# Hours and days whose minutes changed since they were last derived: written with the minutes, so a
# writer that dies before deriving leaves the work to the next one.
rollup_marks = sa.Table(
    "rollup_marks", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("span", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),
)

# The newest curation writer's fencing token per wall that wrote roll-ups (an older one is refused), and
# the bus history it copied from (a new holder that finds another one knows the bus lost its buckets).
# Polls (wall/store/polls.py, docs/polls.md): `state` is the presenter's (open, closed: frozen on screen,
# hidden: off it); `counting` and the votes are the curation writer's, written under its fencing token.
polls = sa.Table(
    "polls", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wall", sa.String(64), nullable=False, index=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("options", sa.Text, nullable=False),  # JSON: [{"label", "words": [...]}, ...]
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("counting", sa.Boolean, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("opened_at", sa.Float, nullable=True),
    sa.Column("closed_at", sa.Float, nullable=True),
    sa.Column("results", sa.Text, nullable=True),  # JSON: votes per option, frozen when counting stops
    sa.CheckConstraint("state IN ('ready', 'open', 'closed', 'hidden')", name="state"),
)

poll_votes = sa.Table(
    "poll_votes", metadata,
    sa.Column("poll_id", sa.Integer, primary_key=True),
    sa.Column("author", sa.String(255), primary_key=True),  # network:handle
    sa.Column("post_id", sa.String(255), nullable=False),
    sa.Column("option", sa.Integer, nullable=False),
)

poll_fences = sa.Table(
    "poll_fences", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("token", sa.BigInteger, nullable=False),
)

rollup_fences = sa.Table(
    "rollup_fences", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("token", sa.BigInteger, nullable=False),
    sa.Column("epoch", sa.String(64), nullable=False),
)

# The memory bus's state on a box without Redis (wall/store/box.py): what its curation writer committed
# and what waits in the inboxes, so `wall serve` restarted neither repeats nor loses posts.
bus_walls = sa.Table(
    "bus_walls", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("epoch", sa.String(32), nullable=False),  # names the kept display history
    sa.Column("position", sa.String(48), nullable=False),  # the last inbox id the writer committed
    sa.Column("total", sa.BigInteger, nullable=False),  # posts approved, less those taken back
    sa.Column("control", sa.LargeBinary, nullable=True),  # the newest control event, framed
    sa.Column("owner", sa.String(32), nullable=False),  # the process keeping it: the last one to start
)


def _entries(name: str) -> sa.Table:
    """Inbox entries or display events of a wall, by their "<ms>-<seq>" id."""
    return sa.Table(
        name, metadata,
        sa.Column("wall", sa.String(64), primary_key=True),
        sa.Column("ms", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


bus_inbox = _entries("bus_inbox")  # admitted, not yet committed by the writer
bus_events = _entries("bus_events")  # the newest display events (the stream's length)

bus_shown = sa.Table(
    "bus_shown", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("post_id", sa.String(255), primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),  # when it was last shown: kept 7 days
)

bus_counted = sa.Table(  # what each counted post added to its minute, for an exact retract
    "bus_counted", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("post_id", sa.String(255), primary_key=True),
    sa.Column("minute", sa.BigInteger, nullable=False, index=True),
    sa.Column("counters", sa.JSON, nullable=False),  # [[name, amount], ...]
)

bus_recent = sa.Table(
    "bus_recent", metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),  # order of first arrival
    sa.Column("wall", sa.String(64), nullable=False),
    sa.Column("post_id", sa.String(255), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.UniqueConstraint("wall", "post_id"),
)

bus_secrets = sa.Table(  # the installation's shared secrets (the media proxy's signing key)
    "bus_secrets", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

bus_authors = sa.Table(
    "bus_authors", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("author", sa.String(255), primary_key=True),
    sa.Column("at", sa.Float, nullable=False, server_default=sa.text("0")),  # last approved: retention
)

controls = sa.Table(
    "controls", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),  # the presenter's live controls (wall/store/controls.py)
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

sentiment_labels = sa.Table(
    "sentiment_labels", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("post_id", sa.String(255), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),  # kept here: the post itself is gone from the bus in days
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("by", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False, index=True),
    # "correction" (a curator set the label), or a weak signal: "approval" (the label the post had, left
    # as it was), "rejection" (read as negative); weak ones are learned from only when the wall says so.
    sa.Column("kind", sa.String(16), nullable=False, server_default="correction"),
    sa.Column("lang", sa.String(16), nullable=True),  # the post's detected language
)

# The per-wall sentiment model's versions: `params` are plain arrays (an .npz, loaded without pickle).
# The current one is the newest not rolled back; none: the shipped default.
sentiment_models = sa.Table(
    "sentiment_models", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("params", sa.LargeBinary, nullable=False),
    sa.Column("labels", sa.Integer, nullable=False),  # labels it was fitted on
    sa.Column("fitted_until", sa.Float, nullable=False),  # labels up to this time; newer ones judge the next
    sa.Column("accuracy", sa.Float, nullable=False),  # on held-out corrections, when accepted
    sa.Column("baseline", sa.Float, nullable=False),  # the model it replaced, on the same rows
    sa.Column("languages", sa.JSON, nullable=False),  # their names, for people ("German")
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("rolled_back_by", sa.String(64), nullable=True),
)

# The kiosk fleet (wall/store/kiosks.py). A kiosk's token and its pairing poll token are stored as sha256.
kiosks = sa.Table(
    "kiosks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),  # None until the kiosk claims it
    sa.Column("wall", sa.String(64), nullable=False, index=True),
    sa.Column("screen", sa.Integer, nullable=False),  # screen k …
    sa.Column("screens", sa.Integer, nullable=False),  # … of n
    sa.Column("display_key_id", sa.Integer, nullable=True),  # the private wall's key it holds
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("revoked_by", sa.String(64), nullable=True),
    sa.Column("last_seen", sa.Float, nullable=True),
    sa.Column("status", sa.JSON, nullable=True),  # the last report: heartbeat, uptime, memory, version, URL
    sa.CheckConstraint("screen >= 1 AND screen <= screens", name="screen"),
)

kiosk_enrollments = sa.Table(
    "kiosk_enrollments", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(16), nullable=False, index=True),  # "K7-4QX": what the screen shows
    sa.Column("poll_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
    sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id", ondelete="CASCADE"), nullable=True),
    sa.Column("claimed_at", sa.Float, nullable=True),  # the last poll (claim) of the kiosk
)

kiosk_commands = sa.Table(
    "kiosk_commands", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("op", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.CheckConstraint("op IN ('reload', 'identify', 'assign')", name="op"),
)

kiosk_screenshots = sa.Table(
    "kiosk_screenshots", metadata,
    sa.Column("kiosk_id", sa.Integer, sa.ForeignKey("kiosks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("jpeg", sa.LargeBinary, nullable=False),
)

# Stage hardware's tokens for the control API (wall/store/control_tokens.py): one wall, one scope each.
control_tokens = sa.Table(
    "control_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wall", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(48), nullable=False),  # "stream deck left": the audit's actor names it
    sa.Column("scope", sa.String(32), nullable=False),  # "presenter", "panic-only" (wall/web/control_api.py)
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),  # None: until revoked
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("revoked_by", sa.String(64), nullable=True),
    sa.Column("last_used_at", sa.Float, nullable=True),
)

# Digests by e-mail (wall/store/digests.py): one row per wall and period, claimed before the mail is sent
# so that it leaves once across restarts and nodes, then what became of it. No person's data: the period,
# counts and the relay's answer.
digest_deliveries = sa.Table(
    "digest_deliveries", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(64), primary_key=True),  # "daily:2026-12-06", "weekly:…", "range:A..B@t"
    sa.Column("start", sa.Float, nullable=False),
    sa.Column("end", sa.Float, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("recipients", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),  # why the last attempt failed
    sa.Column("by", sa.String(64), nullable=False),  # the process (node name) or "cli"
    sa.Column("updated_at", sa.Float, nullable=False, index=True),
    sa.Column("sent_at", sa.Float, nullable=True),
    sa.CheckConstraint("state IN ('sending', 'sent', 'failed')", name="state"),
)

# Alert deliveries (wall/store/alerts.py): the outbox one job sends from, so a delivery survives a restart.
# One row per alert and target; `body` is the alert (counts, names of sources and kiosks: no post text or
# author). `key` names the alert's subject ("spike:volume", "source_down:rss-news"): the same key to the
# same target within the wall's dedupe window is not queued again.
alert_deliveries = sa.Table(
    "alert_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wall", sa.String(64), nullable=False),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),  # why it failed, or why the last attempt did
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("next_at", sa.Float, nullable=False),  # when a pending delivery is due
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.CheckConstraint("state IN ('pending', 'sent', 'failed')", name="state"),
    sa.Index("ix_alert_deliveries_subject", "wall", "target", "key", "created_at"),
    sa.Index("ix_alert_deliveries_due", "state", "next_at"),
)

# A wall's rundown (run of show for an event; wall/store/rundown.py): items in order, each a scene for a
# time with a title and the speaker's notes. Written by staff, about the show: no person's data. Which item
# is on is in the wall's controls (`rundown_item`), so a step and its scene switch are one change.
rundown_items = sa.Table(
    "rundown_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wall", sa.String(64), nullable=False, index=True),
    sa.Column("position", sa.Integer, nullable=False),  # the order; renumbered 0..n-1 on every change
    sa.Column("scene", sa.String(32), nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("title", sa.String(120), nullable=False),
    sa.Column("notes", sa.Text, nullable=False),  # the speaker's: console only, never on a screen
    sa.Column("updated_by", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# The Q&A queue (wall/store/qa.py, docs/qa.md): questions the curation writer found in the wall's posts,
# numbered per wall (the number the audience quotes: "+1 Q3"), and one upvote per voter and question.
# Both hold a person's data (the question's text and handle, the voter): retention and erasure cover them.
qa_questions = sa.Table(
    "qa_questions", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.String(64), nullable=False),
    sa.Column("author", sa.String(255), nullable=False),  # network:handle, as bans name it
    sa.Column("name", sa.Text, nullable=False),  # the handle as screens show it
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("lang", sa.String(16), nullable=True),
    # new (waiting for a moderator), approved, showing (on screen), answered, rejected, merged
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("merged_into", sa.Integer, nullable=True),
    sa.Column("rank", sa.Integer, nullable=True),  # a moderator's order; None: by votes after the ranked
    sa.Column("asked_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("wall", "post_id", name="uq_qa_questions_wall_post_id"),
)

qa_votes = sa.Table(
    "qa_votes", metadata,
    sa.Column("wall", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("voter", sa.String(255), primary_key=True),  # network:handle
    sa.Column("post_id", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)
