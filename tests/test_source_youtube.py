"""YouTube live chat: a stream's chat on a wall, read through liveChatMessages.list as the API asks."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime

import aiohttp
import pytest

from ingest.connector import Checkpoint, Delete, SourceContext, SourceError, Throttled
from ingest.sources import youtube
from tests.fakes.server import Running
from tests.fakes.state import Memory
from tests.fakes.youtube import KEY, LiveChat
from tests.test_connector_contract import checkpointed, drive
from wall.models import post_id

SPAM = "UCq4Spam0000000000000004"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Chat:
    """A live chat on a local fake and the sources built against it, sharing their state."""

    def __init__(self, stack: AsyncExitStack, http: aiohttp.ClientSession) -> None:
        self.stack, self.http, self.fake = stack, http, LiveChat()
        self.state = Memory()
        self.running: Running | None = None

    async def source(self, **options: object) -> youtube.YouTube:
        if self.running is None:
            self.running = await self.fake.run()
            self.stack.push_async_callback(self.running.stop)
        chosen = {"live_chat_id": self.fake.chat_id, **options}
        opts = youtube.Options(api_key_env="WALL_YOUTUBE_KEY", api_url=self.running.http, min_interval=0,
                               **chosen)  # type: ignore[arg-type]
        ctx = SourceContext(http=self.http, state=self.state, env={"WALL_YOUTUBE_KEY": KEY})
        return youtube.build("yt", opts, ctx)


@pytest.fixture
async def chat(http: aiohttp.ClientSession) -> AsyncIterator[Chat]:
    async with AsyncExitStack() as stack:
        yield Chat(stack, http)


def ids(*natives: str) -> set[str]:
    return {post_id("youtube", n) for n in natives}


async def test_chat_messages_show_with_their_author_and_deleted_and_banned_ones_are_retracted(chat: Chat):
    run = await drive(await chat.source(), None, checkpointed)
    items = chat.fake.items
    said = [i["id"] for i in items if i["snippet"]["type"] in ("textMessageEvent", "superChatEvent")]
    assert run.ids() == [post_id("youtube", n) for n in said]
    first = run.posts[0]
    assert first.author.name == "Aino Virtanen"
    assert first.author.handle == items[0]["authorDetails"]["channelId"]
    assert first.author.avatar_url == items[0]["authorDetails"]["profileImageUrl"]
    assert [e.value for e in first.entities if e.kind == "hashtag"] == ["nordlys"]
    (super_chat,) = [p for p in run.posts if p.source_id == items[4]["id"]]
    assert super_chat.text == "take my money, when does preorder open?"  # the comment, not the amount
    deletes = {d.post_id: d.reason for d in run.items if isinstance(d, Delete)}
    assert deletes == {post_id("youtube", items[1]["id"]): "deleted",  # a moderator deleted it
                       **dict.fromkeys(ids(items[2]["id"], items[5]["id"]), "banned")}  # the spammer's two
    assert run.checkpoints == [f"{chat.fake.chat_id} tok{len(items)}"]


async def test_the_next_page_is_asked_with_its_token_after_the_polling_interval(chat: Chat):
    chat.fake.interval_ms = 300
    await drive(await chat.source(), None, lambda r: len(r.checkpoints) == 2)
    first, second = chat.fake.requests[:2]
    assert "pageToken" not in first and second["pageToken"] == f"tok{len(chat.fake.items)}"
    assert second["part"] == "snippet,authorDetails"
    assert chat.fake.times[1] - chat.fake.times[0] >= 0.3  # the API's pollingIntervalMillis, honoured


async def test_a_first_run_takes_only_the_newest_messages_of_the_history(chat: Chat):
    run = await drive(await chat.source(backfill_limit=2), None, checkpointed)
    assert run.ids() == [post_id("youtube", chat.fake.items[i]["id"]) for i in (5, 8)]
    assert run.deletes  # the ban in the kept part of the history still counts


async def test_a_ban_after_a_restart_retracts_what_the_viewer_said_before_it(chat: Chat):
    ban = chat.fake.items.pop(7)
    first = await drive(await chat.source(), None, checkpointed)
    chat.fake.items.append(ban)
    again = await drive(await chat.source(), first.checkpoints[-1], checkpointed)
    assert set(again.deletes) == ids(chat.fake.items[2]["id"], chat.fake.items[5]["id"])
    assert not again.posts


async def test_a_broadcast_that_goes_offline_finishes_the_source(chat: Chat):
    chat.fake.offline = True
    run = await drive(await chat.source(), None, lambda r: False)  # returns when the stream ends
    assert run.posts and isinstance(run.items[-1], Checkpoint)  # the cursor is kept, then the end


async def test_a_chat_that_has_ended_finishes_the_source_without_posts(chat: Chat):
    chat.fake.plan = ["ended"]
    run = await drive(await chat.source(), None, lambda r: False)
    assert run.items == []


async def test_a_spent_quota_waits_until_midnight_pacific_time(chat: Chat):
    chat.fake.plan = ["quota"]
    run = await drive(await chat.source(), None, checkpointed)
    (throttled,) = run.throttled
    assert isinstance(run.items[0], Throttled) and "quota" in throttled.reason
    reset = datetime.fromtimestamp(throttled.until, youtube.PACIFIC)
    assert (reset.hour, reset.minute) == (0, 0) and 0 < throttled.until - time.time() <= 25 * 3600
    assert run.posts  # asked again after the wait


async def test_a_video_id_finds_its_live_chat(chat: Chat):
    run = await drive(await chat.source(live_chat_id="", video_id="nordlysX3lv"), None, checkpointed)
    assert run.posts
    assert chat.fake.requests[0] == {"part": "liveStreamingDetails", "id": "nordlysX3lv"}
    with pytest.raises(SourceError, match=r"video notLiveYet on 127\.0\.0\.1 has no active live chat"):
        await drive(await chat.source(live_chat_id="", video_id="notLiveYet"), None, lambda r: False)


async def test_a_missing_key_says_which_variable_to_set(chat: Chat, http: aiohttp.ClientSession):
    source = youtube.build("yt", youtube.Options(live_chat_id="x", api_key_env="WALL_YOUTUBE_KEY"),
                           SourceContext(http=http, state=Memory(), env={}))
    with pytest.raises(SourceError, match="WALL_YOUTUBE_KEY must hold a YouTube Data API key"):
        await drive(source, None, lambda r: False)
    with pytest.raises(ValueError, match="either live_chat_id or video_id"):
        youtube.build("yt", youtube.Options(), SourceContext(http=http, state=Memory(), env={}))
