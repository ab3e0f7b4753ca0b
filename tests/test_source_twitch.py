"""Twitch chat: a fake IRC-over-WebSocket server, the real connector reading anonymously."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from ingest.connector import Delete, Item, SourceContext, SourceError, Upsert
from ingest.sources import twitch
from tests.fakes.state import Memory
from tests.fakes.twitch import ChatServer
from wall.models import post_id


def privmsg(msg_id: str, user_id: str, login: str, text: str, name: str = "") -> str:
    tags = (
        f"@badge-info=;color=#1E90FF;display-name={name or login};emotes=25:0-4;id={msg_id};mod=0;"
        f"room-id=1;tmi-sent-ts=1773302535104;user-id={user_id}"
    )
    return f"{tags} :{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #nordlysphones :{text}"


LINES = [
    privmsg("m1", "101", "aino", "Kappa the #Nordlys X3 launch is live", "Aino\\sV"),
    privmsg("m2", "102", "spammer", "free nordlys phones at https://scam.example"),
    privmsg("m3", "103", "kalle", "what time is it"),
    privmsg("m4", "102", "spammer", "Nordlys giveaway again"),
    "@login=aino;room-id=1;target-msg-id=m1;tmi-sent-ts=1773302536000"
    " :tmi.twitch.tv CLEARMSG #nordlysphones :Kappa the",
    "@ban-duration=600;room-id=1;target-user-id=102;tmi-sent-ts=1773302537000"
    " :tmi.twitch.tv CLEARCHAT #nordlysphones :spammer",
    "@room-id=1;tmi-sent-ts=1773302538000 :tmi.twitch.tv CLEARCHAT #nordlysphones",
    ":tmi.twitch.tv RECONNECT",
]



async def test_chat_lines_matching_the_terms_arrive_and_moderation_retracts_them(
    http: aiohttp.ClientSession,
) -> None:
    server = ChatServer(LINES)
    fake = await server.run()
    items: list[Item] = []
    try:
        options = twitch.Options(channels=("NordlysPhones",), terms=("nordlys",), server=f"{fake.ws}/")
        conn = twitch.build("chat", options, SourceContext(http, Memory(), {}))

        async def run() -> None:
            async for item in conn.stream(None):
                items.append(item)

        with pytest.raises(SourceError, match="asked us to reconnect"):
            await asyncio.wait_for(run(), 5)
    finally:
        await fake.stop()
    assert server.received[:3] == [
        "CAP REQ :twitch.tv/tags twitch.tv/commands",
        "PASS SCHMOOPIIE",
        server.received[2],
    ]
    assert server.received[2].startswith("NICK justinfan") and "JOIN #nordlysphones" in server.received
    assert server.pong == "PONG :tmi.twitch.tv"
    posts = [i.post for i in items if isinstance(i, Upsert)]
    assert [p.source_id for p in posts] == ["m1", "m2", "m4"], "kalle's line has no term"
    assert posts[0].author.name == "Aino V" and posts[0].text.startswith(
        "Kappa the #Nordlys"
    )  # emotes stay text
    assert posts[0].id == post_id("twitch", "m1") and posts[0].source == "twitch"
    assert [(e.kind, e.value) for e in posts[1].entities] == [("link", "https://scam.example")]
    deletes = [i for i in items if isinstance(i, Delete)]
    assert deletes == [
        Delete(post_id("twitch", "m1"), "removed"),
        Delete(post_id("twitch", "m2"), "banned"),
        Delete(post_id("twitch", "m4"), "banned"),
    ]


def test_irc_tags_are_parsed_and_unescaped() -> None:
    line = twitch.parse(
        "@display-name=A\\sB;msg=x\\:y\\\\z;empty="
        " :nick!nick@nick.tmi.twitch.tv PRIVMSG #chan :hi there :)\r\n"
    )
    assert line.tags == {"display-name": "A B", "msg": "x;y\\z", "empty": ""}
    assert (line.prefix, line.command, line.params) == (
        "nick!nick@nick.tmi.twitch.tv",
        "PRIVMSG",
        ["#chan", "hi there :)"],
    )
    assert twitch.parse("PING :tmi.twitch.tv").params == ["tmi.twitch.tv"]


def test_a_ban_retracts_only_the_recent_lines_it_remembers() -> None:
    chat = twitch.Chat(())
    for n in range(twitch.RECENT_PER_USER + 5):
        chat.handle(twitch.parse(privmsg(f"x{n}", "7", "loud", f"line {n}")))
    deletes = chat.handle(twitch.parse("@target-user-id=7 :tmi.twitch.tv CLEARCHAT #c :loud"))
    assert len(deletes) == twitch.RECENT_PER_USER and deletes[-1] == Delete(
        post_id("twitch", "x54"), "banned"
    )
