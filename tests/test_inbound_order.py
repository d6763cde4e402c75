"""Inbound messages: one person's messages are handled in order and one at a time (in one
instance and across instances on one database); a duplicate delivery is dropped, also after a
restart."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.messages import ChatRef, Inbound
from models.tables import DialogState, InboundSeen, OutboxMessage
from tests.ids import make_id

NOW = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)
_ids = itertools.count(5000)
UP_TO_SKILLS = ["登记", "同意", "王小明", make_id(), "13812345678", "青岩", "歪脚村", "跳过", "本人",
                "3", "1", "1", "没有"]


def msg(user: str, text: str, message_id: str | int | None = None, group: str = "") -> Inbound:
    chat = ChatRef("qq", "group", group) if group else ChatRef("qq", "private", user)
    return Inbound(chat=chat, sender_id=user, text=text,
                   message_id=str(next(_ids) if message_id is None else message_id), time=NOW,
                   mentioned=not group, account="10001")


@asynccontextmanager
async def running(settings):
    app = App(settings)
    await app.prepare()
    try:
        yield app
    finally:
        await app.stop()


async def state_of(app: App, identity: str) -> DialogState | None:
    async with app.db.session() as s:
        return await s.get(DialogState, identity)


async def replies(app: App, user: str) -> list[str]:
    async with app.db.session() as s:
        return list((await s.execute(
            select(OutboxMessage.text).where(OutboxMessage.chat == f"qq:private:{user}")
            .order_by(OutboxMessage.id))).scalars())


def track_concurrency(app: App, seen: dict[str, int], pause: float = 0.02) -> None:
    """Record the most messages of one person in the dialog engine at once (slowed down, so
    that an overlap would show)."""
    inside: defaultdict[str, int] = defaultdict(int)
    original = app.engine.handle

    async def handle(ctx, state, text, has_media):
        inside[state.identity] += 1
        seen[state.identity] = max(seen.get(state.identity, 0), inside[state.identity])
        try:
            await asyncio.sleep(pause)
            return await original(ctx, state, text, has_media)
        finally:
            inside[state.identity] -= 1

    app.engine.handle = handle  # type: ignore[method-assign]


async def test_fast_messages_of_one_person_are_handled_in_order(settings):
    async with running(settings) as app:
        most: dict[str, int] = {}
        track_concurrency(app, most)
        await app.handle(msg("20001", "登记"))
        await app.handle(msg("20002", "登记"))
        id_number = make_id(seq="456")
        # four answers from one person, and three from another, all at once
        results = await asyncio.gather(
            *(app.handle(msg("20001", t)) for t in ("同意", "王小明", id_number, "13812345678")),
            *(app.handle(msg("20002", t)) for t in ("同意", "李四", "跳过")),
        )
        assert all(results)
        state = await state_of(app, "qq:20001")
        assert state is not None
        assert state.history == ["consent", "name", "id_number", "phone"]
        assert state.answers["name"] == "王小明" and state.answers["id_number"] == id_number
        assert state.answers["phone"] == "13812345678" and state.step == "township"
        texts = await replies(app, "20001")
        assert len(texts) == 5  # one reply per message, each the next question
        for text, expected in zip(texts, ("同意登记吗", "姓名", "身份证号", "手机号", "乡镇"),
                                  strict=True):
            assert expected in text, (expected, text)
        other = await state_of(app, "qq:20002")
        assert other is not None and other.answers["name"] == "李四"
        assert other.step == "id_number"  # 跳过 is refused for a required question
        assert most == {"qq:20001": 1, "qq:20002": 1}


async def test_group_chatter_in_between_does_not_disturb_the_dialog(settings):
    async with running(settings) as app:
        await app.handle(msg("20003", "登记"))
        await asyncio.gather(
            app.handle(msg("20003", "同意")),
            app.handle(msg("20003", "大家好", group="30001")),
            app.handle(msg("20003", "张三")),
        )
        state = await state_of(app, "qq:20003")
        assert state is not None and state.history == ["consent", "name"]
        assert state.answers["name"] == "张三"


async def test_duplicates_dropped_also_after_a_restart(settings):
    async with running(settings) as app:
        assert await app.handle(msg("20004", "登记", message_id=-7001))
        assert await app.handle(msg("20004", "同意", message_id=-7002))
        # delivered twice at once: one is handled
        both = await asyncio.gather(app.handle(msg("20004", "王五", message_id=-7003)),
                                    app.handle(msg("20004", "王五", message_id=-7003)))
        assert sorted(both) == [False, True]
    async with running(settings) as app:  # a new process on the same database
        for mid, text in ((-7001, "登记"), (-7002, "同意"), (-7003, "王五")):
            assert await app.handle(msg("20004", text, message_id=mid)) is False
        state = await state_of(app, "qq:20004")
        assert state is not None and state.history == ["consent", "name"]
        assert len(await replies(app, "20004")) == 3
        assert await app.handle(msg("20004", make_id(seq="789"), message_id=-7004))
        state = await state_of(app, "qq:20004")
        assert state is not None and state.step == "phone"
        async with app.db.session() as s:
            seen = (await s.execute(select(func.count()).select_from(InboundSeen))).scalar_one()
        assert seen == 4


async def test_same_message_id_from_two_people_is_not_a_duplicate(settings):
    # OneBot message ids are 32-bit hashes: two people's messages can share one.
    async with running(settings) as app:
        assert await app.handle(msg("20005", "登记", message_id=424242))
        assert await app.handle(msg("20006", "登记", message_id=424242))
        assert await state_of(app, "qq:20005") is not None
        assert await state_of(app, "qq:20006") is not None


async def test_an_error_inside_a_handler_is_not_taken_for_a_duplicate(settings, caplog):
    from sqlalchemy.exc import IntegrityError

    async with running(settings) as app:
        original = app.router.route

        async def broken(ctx):
            raise IntegrityError("INSERT …", {}, Exception("UNIQUE constraint failed: worker.id"))

        app.router.route = broken  # type: ignore[method-assign]
        assert await app.handle(msg("20007", "登记", message_id=9001))
        texts = await replies(app, "20007")
        assert len(texts) == 1 and "没有处理成功" in texts[0]  # told, not silently dropped
        app.router.route = original  # type: ignore[method-assign]
        assert await app.handle(msg("20007", "登记", message_id=9001))  # a redelivery is handled
        assert "同意登记吗" in (await replies(app, "20007"))[-1]


async def test_two_instances_on_one_database_take_one_persons_messages_in_turn(settings):
    """Two bot instances on one database (e.g. two accounts, one person writing to both):
    the second waits until the first has stored its answer, instead of answering against the
    state it read before (which would lose the first answer)."""
    async with running(settings) as first, running(settings) as second:
        for text in UP_TO_SKILLS:
            assert await first.handle(msg("20008", text))
        state = await state_of(first, "qq:20008")
        assert state is not None and state.step == "skills"
        most: dict[str, int] = {}
        track_concurrency(first, most, pause=0.3)  # the first instance is slow
        track_concurrency(second, most, pause=0.0)

        async def later():
            await asyncio.sleep(0.1)
            return await second.handle(msg("20008", "在东莞电子厂做过3年普工"))

        assert all(await asyncio.gather(first.handle(msg("20008", "电焊")), later()))
        state = await state_of(first, "qq:20008")
        assert state is not None
        assert state.answers["skills"] == "电焊"
        assert state.answers["experience"] == "在东莞电子厂做过3年普工"
        assert state.step == "status"
        assert most["qq:20008"] == 1


@pytest.mark.parametrize("instances", [2])
async def test_duplicate_delivered_to_two_instances_is_handled_once(settings, instances):
    async with running(settings) as first, running(settings) as second:
        await first.handle(msg("20009", "登记", message_id=8001))
        results = await asyncio.gather(first.handle(msg("20009", "同意", message_id=8002)),
                                       second.handle(msg("20009", "同意", message_id=8002)))
        assert sorted(results) == [False, True]
        assert len(await replies(first, "20009")) == 2


async def test_sqlite_locked_by_another_process_the_bot_waits_without_freezing(settings, tmp_path):
    """SQLite statements run in the event loop's thread (models.db.InlineSQLite); one that finds
    the database locked by another program (a ``python -m bot cadre`` command, a backup) must
    wait for it off the loop: the bot keeps reading its connections meanwhile, and the message
    is handled, not lost, once the lock is free."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    import sqlite3

    from sqlalchemy.engine import make_url

    async with running(settings) as app:
        assert await app.handle(msg("20031", "登记"))
        other = sqlite3.connect(make_url(settings.database_url).database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        handling = asyncio.create_task(app.handle(msg("20031", "同意")))
        await asyncio.sleep(0.5)
        assert not handling.done()  # waiting for the lock…
        assert ticks >= 20  # …while the event loop runs on
        other.execute("COMMIT")
        other.close()
        assert await asyncio.wait_for(handling, 10)
        ticking.cancel()
        said = await replies(app, "20031")
        assert "姓名" in said[-1]  # the consent was taken: the next question is the name
