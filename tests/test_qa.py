"""Q&A from the room (docs/qa.md): posts to the wall that ask something become numbered questions in the
console's queue; moderators approve, merge duplicates and order them; the audience upvotes with "+1" or a
like emoji, as a reply or naming the number ("+1 Q3"), once per person; the presenter shows one at a time
on the "qa" scene and marks it answered. Pure detection first, then the real store (SQLite and
PostgreSQL), then the story in a real Chromium on a phone and the scene at 1080p and 4K."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import msgspec
import pytest
from playwright.async_api import Browser, Dialog

from ingest.connector import Upsert
from ingest.sources import bluesky
from tests.console_helpers import Browser as Session
from tests.console_helpers import console_app, opened_store
from tests.helpers import ARTIFACTS, WAIT, eventually, make_config, post, serving
from tests.postgres_server import PostgresServer
from tests.test_console_browser import LIVE, PHONE, XSS, log_in, open_wall, watch
from tests.test_presenter_stage import TOUCH
from tests.test_source_bluesky import MESSAGES
from tests.test_store_contract import postgres  # noqa: F401  (the session's PostgreSQL fixture)
from wall.bus.redis import RedisEngine
from wall.curate.writer import CurationWriter
from wall.models import Author, InboxPost, Post, encode, post_id
from wall.questions import is_question, upvote
from wall.store import Store, connect
from wall.store.qa import NoQuestion

FACTS = (Path(__file__).parent / "layout_facts.js").read_text()
DATABASES = itertools.count()

# --- which posts ask ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [
    ("Will the X3 get Android 17?", "en"),
    ("When does the battery talk start", "en"),
    ("How long is the warranty", None),
    ("What's the price in Norway", "en"),
    ("Wann kommt das X3 nach Österreich", "de"),
    ("Gibt es eine Version mit 512 GB", "de"),
    ("Pourquoi pas de prise casque", "fr"),
    ("Est-ce que la batterie est remplaçable", "fr"),
    ("¿Cuándo llega a México", "es"),
    ("Cuánto cuesta en España", "es"),
    ("Milloin X3 tulee Suomeen", "fi"),
    ("Mitä akku maksaa", "fi"),
    ("Onko kamerassa optinen zoom", "fi"),
    ("Varför ingen laddare i kartongen", "sv"),
    ("Hur länge räcker batteriet", "sv"),
    ("Waarom is er geen 5x zoom", "nl"),
    ("Hoeveel kost de X3", "nl"),
    ("Quando arriva in Italia", "it"),
    ("Perché non c'è il caricatore", "it"),
    ("Quanto custa no Brasil", "pt"),
    ("Onde posso comprar", "pt"),
    ("X3 の発売日は\uff1f", "ja"),  # a fullwidth question mark
    ("متى يصل الهاتف؟", "ar"),
    ("#nordlys is the battery user-replaceable? https://nordlys.example/x3", "en"),
])
def test_a_post_that_asks_is_a_question_by_its_punctuation_or_its_first_word(text: str, lang: str | None):
    assert is_question(text, lang)


@pytest.mark.parametrize(("text", "lang"), [
    ("Loving the new X3, the battery lasts all day", "en"),
    ("Das X3 ist großartig", "de"),
    ("Das war ein toller Abend!", "de"),
    ("Is", "de"),  # "is" is not German
    ("", None),
    ("https://nordlys.example/faq?q=1", "en"),  # a "?" inside a link asks nothing
    ("#nordlys @nordlysphones", None),
    ("Was a great keynote", None),  # unknown language: an ambiguous opener is not enough
])
def test_statements_links_and_ambiguous_openers_are_not_questions(text: str, lang: str | None):
    assert not is_question(text, lang)


@pytest.mark.parametrize(("text", "vote"), [
    ("+1", (True, None)), ("👍", (True, None)), ("❤️", (True, None)), ("👍🏽", (True, None)),
    ("👍👍👍", (True, None)), ("+1 Q3", (True, 3)), ("q12 +1!", (True, 12)), ("👍 #Q7", (True, 7)),
    ("+1 Q3 great one", (True, 3)),
    ("Q3", (False, None)),  # a number alone is no vote
    ("I give this talk a +1 but the slides were hard to read", (False, None)),  # a post, not a vote
    ("nice", (False, None)),
])
def test_an_upvote_is_a_plus_one_or_a_like_emoji_with_the_number_it_names(text: str,
                                                                           vote: tuple[bool, int | None]):
    assert upvote(text) == vote


# --- the queue in the store --------------------------------------------------------------------------


def a_post(pid: str, text: str, handle: str, lang: str | None = "en", reply_to: str | None = None) -> Post:
    return Post(pid, "bluesky", pid, text, datetime(2026, 12, 7, tzinfo=UTC), Author(handle, handle),
                lang=lang, reply_to=reply_to)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"wall_qa_{next(DATABASES)}")


async def test_questions_and_votes_count_once_per_post_and_per_person_across_replays(store_url: str):
    async with connect(store_url) as store:
        qa = store.qa
        assert (await qa.take("lobby", a_post("p1", "When does it ship?", "ana.bsky"))).asked == 1
        assert (await qa.take("lobby", a_post("p1", "When does it ship?", "ana.bsky"))).asked == 1  # again
        assert (await qa.take("lobby", a_post("p2", "Loving it", "bo.bsky"))).asked is None
        assert (await qa.take("lobby", a_post("p3", "How much is it", "cy.bsky"))).asked == 2
        assert (await qa.take("other", a_post("p9", "Who made it?", "cy.bsky"))).asked == 1  # per wall

        # Votes: by number, by reply to the question's post; one per person; never one's own question.
        assert (await qa.take("lobby", a_post("v1", "+1 Q1", "bo.bsky"))).voted == 1
        assert (await qa.take("lobby", a_post("v1", "+1 Q1", "bo.bsky"))).voted == 1  # a takeover replays it
        await qa.take("lobby", a_post("v2", "👍", "bo.bsky", reply_to="p1"))  # bo again, by reply
        assert (await qa.take("lobby", a_post("v3", "❤️", "dee.bsky", reply_to="p1"))).voted == 1
        assert (await qa.take("lobby", a_post("v4", "+1 Q1", "ana.bsky"))).voted is None  # her own
        assert (await qa.take("lobby", a_post("v5", "+1 Q99", "ed.bsky"))) .voted is None  # no such question
        await qa.take("lobby", a_post("v6", "+1 Q2", "ed.bsky"))
        await qa.take("lobby", a_post("v7", "+1 Q2", "bo.bsky"))
        assert [(q.number, q.votes) for q in await qa.questions("lobby")] == [(1, 2), (2, 2)]

        # A duplicate merged into Q1 brings its voters (bo voted both: still one person, one vote).
        merged = await qa.merge("lobby", 2, 1)
        assert (merged.number, merged.votes) == (1, 3)
        assert (await qa.take("lobby", a_post("v8", "+1 Q2", "fay.bsky"))).voted == 1  # a vote for Q2 is Q1's
        assert (await qa.get("lobby", 1)).votes == 4
        with pytest.raises(ValueError, match="merged into Q1"):
            await qa.merge("lobby", 1, 2)

        # The order: a moderator's moves first, then by votes.
        await qa.take("lobby", a_post("p4", "Where is it made?", "gus.bsky"))
        await qa.take("lobby", a_post("p5", "Why no jack?", "hal.bsky"))
        assert [q.number for q in await qa.questions("lobby", ("new",))] == [1, 3, 4]
        await qa.move("lobby", 4, "top")
        await qa.move("lobby", 1, "down")
        assert [q.number for q in await qa.questions("lobby", ("new",))] == [4, 3, 1]

        # One on screen at a time; it survives a restart of everything (it is in SQL).
        await qa.set_status("lobby", 1, "showing")
        await qa.set_status("lobby", 3, "showing")
        assert [(q.number, q.status) for q in await qa.questions("lobby", ("showing", "approved"))] == \
            [(3, "showing"), (1, "approved")]
    async with connect(store_url) as store:
        assert (shown := await store.qa.showing("lobby")) is not None and shown.number == 3
        with pytest.raises(NoQuestion):
            await store.qa.get("lobby", 42)

        # Erasure takes a person's questions and votes; retention the old ones.
        assert await store.qa.erase("lobby", ["v6"], "bluesky:bo.bsky") == 3  # bo's two, ed's v6
        assert (await store.qa.get("lobby", 1)).votes == 2  # dee and fay are left (Q2 merged into Q1)
        assert await store.qa.before("lobby", datetime(2100, 1, 1, tzinfo=UTC).timestamp()) > 0
        assert await store.qa.questions("lobby") == []
        assert len(await store.qa.questions("other")) == 1


# --- the story: phone console, wall page ---------------------------------------------------------------


async def question_rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    return await page.eval_on_selector_all(
        ".qa-item", "li => li.map(l => `${l.querySelector('.qa-number').textContent} "
                    "${l.dataset.status} ${l.querySelector('.qa-votes').textContent}`)")


async def test_questions_from_posts_are_approved_merged_upvoted_shown_and_answered_on_a_phone(
        browser: Browser, tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    cfg = make_config(store_url=store_url)
    problems: list[str] = []
    phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    async with opened_store(store_url) as store, serving(console_app(cfg, store)) as base, \
            aiohttp.ClientSession() as http:
        deck, _ = await store.control_tokens.issue("lobby", "stage deck", "presenter", "root", None)
        for pid, text, who in (("p1", "Will the X3 get Android 17?", "aino"),
                               ("p2", "Loving the keynote", "jonas"),
                               ("p3", "Pourquoi pas de prise casque", "camille"),
                               ("p4", "will the X3 get android 17??", "mika")):
            status, _ = await post(http, base, {"id": pid, "text": text, "author": {"handle": who},
                                                "lang": "fr" if pid == "p3" else "en"})
            assert status in (200, 202)

        moderator = await log_in(phone, base, "ana", problems, next_="/console/w/lobby/qa")
        await moderator.wait_for_function("() => document.querySelectorAll('.qa-item').length === 3",
                                          timeout=WAIT * 1000)
        assert await question_rows(moderator) == ["Q1 new 0 votes", "Q2 new 0 votes", "Q3 new 0 votes"]
        assert await moderator.locator(".qa-item[data-number='2'] .qa-text").text_content() == \
            "Pourquoi pas de prise casque"

        await moderator.tap(".qa-item[data-number='1'] button[data-action=approve]")
        await moderator.locator(".qa-item[data-number='1'][data-status=approved]").wait_for()
        await moderator.tap(".qa-item[data-number='2'] button[data-action=approve]")
        await moderator.locator(".qa-item[data-number='2'][data-status=approved]").wait_for()

        async def into_q1(dialog: Dialog) -> None:
            await dialog.accept("Q1")
        moderator.once("dialog", into_q1)  # Q3 repeats Q1
        await moderator.tap(".qa-item[data-number='3'] button[data-action=merge]")
        await moderator.wait_for_function("() => !document.querySelector(\".qa-item[data-number='3']\")")
        assert "merged: Q3" in (await moderator.locator(".qa-item[data-number='1'] .qa-merged")
                                .text_content() or "")
        await moderator.tap(".qa-item[data-number='2'] button[data-action=top]")
        await moderator.wait_for_function("() => document.querySelector('.qa-item').dataset.number === '2'")

        # The room votes: by number, once per person (a second "+1" from leo counts once), and a vote
        # for the merged Q3 counts for Q1.
        for pid, text, who in (("v1", "+1 Q1", "leo"), ("v2", "👍 Q1", "leo"), ("v3", "+1 q3", "mia"),
                               ("v4", "❤️ Q2", "noa")):
            await post(http, base, {"id": pid, "text": text, "author": {"handle": who}})
        await moderator.wait_for_function(
            "() => document.querySelector(\".qa-item[data-number='1'] .qa-votes\")?.textContent"
            " === '2 votes'",
            timeout=WAIT * 1000)
        assert await question_rows(moderator) == ["Q2 approved 1 vote", "Q1 approved 2 votes"]
        small = await moderator.eval_on_selector_all(
            "main button", f"bs => bs.filter(b => b.getBoundingClientRect().height < {TOUCH})"
                           ".map(b => b.textContent.trim())")
        assert small == [], small
        assert await moderator.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        await moderator.screenshot(path=ARTIFACTS / "console-qa-390x844.png", full_page=True)

        # The presenter puts the wall on the qa scene and shows Q1; the wall shows it, big, with its votes.
        wall = await open_wall(browser, f"{base}/w/lobby", problems)
        stage_phone = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        presenter = await log_in(stage_phone, base, "pia", problems, next_="/console/w/lobby/qa")
        await presenter.locator(".qa-item[data-number='1']").wait_for()
        assert await presenter.locator(".qa-item[data-number='1'] button[data-action=approve]").count() == 0
        await presenter.tap("button.qa-scene")
        await wall.wait_for_selector("body[data-scene=qa]", timeout=LIVE * 1000)
        assert await wall.locator(".qa-idle").is_visible()
        await presenter.tap(".qa-item[data-number='1'] button[data-action=show]")
        await wall.wait_for_selector(".scene-qa[data-number='1']", timeout=LIVE * 1000)
        assert await wall.locator(".qa-question").text_content() == "Will the X3 get Android 17?"
        assert await wall.locator(".qa-asker").text_content() == "@aino"
        assert await wall.locator(".qa-label").text_content() == "Question 1 · 2 votes"
        await post(http, base, {"id": "v5", "text": "+1 Q1", "author": {"handle": "oli"}})  # live, on screen
        await wall.wait_for_function("() => document.querySelector('.qa-label').textContent"
                                     " === 'Question 1 · 3 votes'", timeout=LIVE * 1000)
        await presenter.locator(".qa-showing", has_text="Q1: Will the X3").wait_for()

        await presenter.tap(".qa-item[data-number='1'] button[data-action=answered]")
        await wall.wait_for_selector(".scene-qa[data-number='']", timeout=LIVE * 1000)
        assert await wall.locator(".qa-idle").is_visible()
        await presenter.locator(".qa-item[data-number='1'][data-status=answered]").wait_for()

        # Stage hardware: "qa-next" shows the next approved question (Q2), then there is none left.
        async with http.post(f"{base}/api/v1/control/lobby/qa-next",
                             headers={"Authorization": f"Bearer {deck}"}) as r:
            assert r.status == 200, await r.text()
        await wall.wait_for_selector(".scene-qa[data-number='2']", timeout=LIVE * 1000)
        async with http.post(f"{base}/api/v1/control/lobby/qa-next",
                             headers={"Authorization": f"Bearer {deck}"}) as r:
            assert r.status == 404 and "no approved question" in (await r.json())["error"]

        audit = [e.action for e in await store.audit.browse(limit=500)]
        assert {"qa.approve", "qa.merge", "qa.top", "qa.show", "qa.answered"} <= set(audit)
        await phone.close()
        await stage_phone.close()
        await wall.context.close()
    assert problems == []


async def _count(store: Store, n: int) -> bool:
    return len(await store.qa.questions("lobby")) >= n


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_qa_scene_is_legible_from_four_metres(browser: Browser, tmp_path: Path,
                                                         size: tuple[int, int]) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    problems: list[str] = []
    long = ("Will the X3 get the same seven years of updates in every country, including the ones where "
            "it is sold by carriers, and will those updates arrive on the same day as elsewhere?")
    async with opened_store(store_url) as store, serving(console_app(make_config(store_url=store_url),
                                                                     store)) as base, \
            aiohttp.ClientSession() as http, Session(base) as pia:
        await post(http, base, {"id": "p1", "text": long, "author": {"handle": "aino_virtanen"}})
        await eventually(lambda: store.qa.questions("lobby"))
        assert (await pia.login("pia")).status == 303
        r = await pia.post("/console/api/w/lobby/qa", json={"number": 1, "action": "show"})
        assert r.status == 200, await r.text()
        page = watch(await browser.new_page(viewport={"width": size[0], "height": size[1]}), problems)
        await page.goto(f"{base}/w/lobby?scene=qa")
        await page.wait_for_selector(".scene-qa[data-number='1']", timeout=WAIT * 1000)
        assert await page.locator(".qa-question").text_content() == long
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"qa-scene-{size[0]}x{size[1]}.png")
        assert await page.evaluate(FACTS, ".scene-qa") == []
        big = await page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('.qa-question'))"
                                  ".fontSize)")
        assert big >= 60 * size[1] / 1080  # at least 60 design px: a line read from 4 m

        # A question is text from the internet: markup in it stays text, on the wall and on the console.
        await post(http, base, {"id": "p2", "text": f"Why {XSS}", "author": {"handle": "mallory"}})
        await eventually(lambda: _count(store, 2))
        r = await pia.post("/console/api/w/lobby/qa", json={"number": 2, "action": "show"})
        assert r.status == 200, await r.text()
        await page.wait_for_selector(".scene-qa[data-number='2']", timeout=WAIT * 1000)
        assert await page.locator(".qa-question").text_content() == f"Why {XSS}"
        assert await page.locator(".scene-qa img, .scene-qa script").count() == 0
        assert await page.title() != "PWNED"
        await page.close()
    assert problems == []


def test_a_bluesky_reply_names_the_post_it_answers_so_a_like_reply_upvotes_that_question():
    handler = bluesky.Handler(bluesky.Matcher(hashtags=("nordlys",)))
    message = json.loads(MESSAGES[0])
    parent = "at://did:plc:z6ffbeguqhx3qzbdcu7b333e/app.bsky.feed.post/3mgtwptmkfsqb"
    message["commit"]["record"]["reply"] = {"parent": {"cid": "bafy", "uri": parent},
                                            "root": {"cid": "bafy", "uri": parent}}
    got = handler.handle(json.dumps(message))
    assert isinstance(got, Upsert) and got.post.reply_to == post_id("bluesky", parent)
    alone = handler.handle(MESSAGES[0])
    assert isinstance(alone, Upsert) and alone.post.reply_to is None


# --- the count across a writer takeover ------------------------------------------------------------------


async def test_votes_stay_exact_when_a_writer_dies_mid_stream_and_another_takes_the_wall(
        redis_url: str, tmp_path: Path) -> None:
    """Two writers as `wall curate` runs them, on real Redis and one SQLite store; votes from several
    networks, repeated, arrive while the first is killed. The second replays what the first left
    uncommitted: nothing counts twice."""
    async with connect(f"sqlite+aiosqlite:///{tmp_path}/wall.db") as store:
        bus = RedisEngine(redis_url)
        networks = ("bluesky", "mastodon", "twitch", "youtube")
        entries = [a_post("q1", "Which chip does the X3 use?", "ana"),
                   a_post("q2", "Warum kein Klinkenstecker?", "jonas", lang="de")]
        for i in range(120):  # 40 people, each voting three times, from their network
            who = f"fan{i % 40}"
            entries.append(msgspec.structs.replace(
                a_post(f"v{i}", ("+1 Q1", "👍 q1", "❤️ Q2")[i // 40], who),
                source=networks[i % 4], id=f"{networks[i % 4]}-v{i}"))
        writers: list[tuple[CurationWriter, asyncio.Task[None], RedisEngine]] = []

        def start(owner: str) -> None:
            engine = RedisEngine(redis_url)
            writer = CurationWriter("qa-wall", engine, owner, stats_interval=0.5, store=store)
            writers.append((writer, asyncio.create_task(writer.run()), engine))

        start("first")
        for entry in entries[:70]:
            await bus.enqueue("qa-wall", encode(InboxPost(entry)))
        await eventually(lambda: writers[0][0].status.committed >= 30)
        writers[0][1].cancel()  # killed mid-stream: its lease lapses, the rest is the next writer's
        with contextlib.suppress(asyncio.CancelledError):
            await writers[0][1]
        start("second")
        for entry in entries[70:]:
            await bus.enqueue("qa-wall", encode(InboxPost(entry)))

        async def counted() -> list[tuple[int, int]] | None:
            found = [(q.number, q.votes) for q in await store.qa.questions("qa-wall")]
            return found if found == [(1, 40), (2, 40)] else None
        assert await eventually(counted)  # 40 people each: the repeats, the replay counted once
        writers[1][0].stop()
        await writers[1][1]
        for _, _, engine in writers:
            await engine.close()
        await bus.close()


async def test_a_wrong_q_and_a_request_gets_a_clear_4xx(tmp_path: Path) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path}/wall.db"
    async with opened_store(store_url) as store, serving(console_app(make_config(store_url=store_url),
                                                                     store)) as base, \
            aiohttp.ClientSession() as http, Session(base) as pia, Session(base) as ana:
        await post(http, base, {"id": "p1", "text": "Why is the sky blue?", "author": {"handle": "aino"}})
        await eventually(lambda: _count(store, 1))
        assert (await pia.login("pia")).status == 303 and (await ana.login("ana")).status == 303
        for who, body, status, words in (
                (pia, {"number": 1, "action": "approve"}, 403, "a curator's action"),
                (ana, {"number": 7, "action": "approve"}, 404, "no question Q7"),
                (ana, {"number": 1, "action": "merge"}, 400, "merge needs into"),
                (ana, {"number": 1, "action": "merge", "into": 1}, 400, "into itself"),
                (ana, {"number": 1, "action": "hide"}, 400, "Q1 is not on screen"),
                (ana, {"number": 1, "action": "shout"}, 400, "action: one of"),
                (ana, {"number": 0, "action": "show"}, 422, "number"),
                (ana, {"number": 1, "action": "top", "extra": 1}, 422, "extra")):
            r = await who.post("/console/api/w/lobby/qa", json=body)
            assert r.status == status and words in (await r.json())["error"], (body, r.status)
        r = await ana.post("/console/api/w/nowhere/qa", json={"number": 1, "action": "show"})
        assert r.status == 404
