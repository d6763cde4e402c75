"""注销: a worker's data deleted on request, in one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models.erase import ERASE_ACTION, erase_person, rows_referencing_worker, worker_references
from models.tables import (
    Application,
    AuditLog,
    Bus,
    BusSeat,
    Checkin,
    DialogState,
    Household,
    Identity,
    Nudge,
    OutboxMessage,
    Vacancy,
    VacancyPush,
    Worker,
)
from tests.factories import NOW, add_cadre, add_worker
from tests.harness import BotDriver
from tests.test_registration import BASE, answer_all


async def _life(session, worker: Worker, bus: Bus, vacancy: Vacancy) -> None:
    """Everything a worker leaves behind in a few weeks of use."""
    wid = worker.id
    assert wid is not None
    for day in (date(2024, 2, 1), date(2024, 2, 2)):
        session.add(Checkin(worker_id=wid, day=day, at=NOW, temperature=36.5, text="36.5 正常",
                            symptoms=[]))
        session.add(Nudge(kind="checkin", worker_id=wid, day=day, at=NOW))
    session.add(Application(vacancy_id=vacancy.id, worker_id=wid, created_at=NOW, updated_at=NOW))
    session.add(VacancyPush(vacancy_id=vacancy.id, worker_id=wid, at=NOW))
    session.add(BusSeat(bus_id=bus.id, worker_id=wid, at=NOW))
    bus.taken += 1
    session.add(bus)
    await session.flush()


async def _world(bot: BotDriver) -> dict:
    """Two workers of one village (separate households), each with a full history; the first
    also chats on a second account and has a dialog and messages in flight."""
    async with bot.app.db.session() as s:
        vacancy = Vacancy(employer="某电子厂", title="普工", area="省外", created_at=NOW,
                          updated_at=NOW)
        bus = Bus(destination="广东东莞", day=date(2024, 2, 15), seats=40, meeting_point="青岩镇政府",
                  created_at=NOW)
        s.add_all([vacancy, bus])
        await s.flush()
        gone = await add_worker(s, "sim:u1", name="王小明", phone="13812345678",
                                head="王小明", status="待返岗")
        kept = await add_worker(s, "sim:u2", name="李四", phone="13987654321", head="李四")
        s.add(Identity(identity="qq:20001", worker_id=gone.id, display_name="小明", first_seen=NOW,
                       last_seen=NOW))
        await _life(s, gone, bus, vacancy)
        await _life(s, kept, bus, vacancy)
        # A paused dialog on the second account, and a reply still queued for it.
        s.add(DialogState(identity="qq:20001", dialog="registration", step="phone",
                          answers={"name": "王小明"}, paused=True, started_at=NOW, updated_at=NOW))
        s.add(OutboxMessage(platform="qq", chat="qq:private:20001", text="请核对：王小明",
                            created_at=NOW))
        s.add(OutboxMessage(platform="sim", chat="sim:private:u2", text="李四您好", created_at=NOW))
        # A cadre was alerted about both (sent).
        s.add(OutboxMessage(platform="sim", chat="sim:private:c1", status="sent", created_at=NOW,
                            text="王小明（歪脚村，13812345678）体温37.8；李四 正常"))
        # A cadre looked both up.
        cadre = await add_cadre(s, "sim:c1", "district")
        s.add(AuditLog(at=NOW, actor="sim:c1", action="worker.view", target=str(gone.id),
                       detail="王小明"))
        s.add(AuditLog(at=NOW, actor="sim:c1", action="worker.search", target="",
                       detail="王小明：2人"))
        s.add(AuditLog(at=NOW, actor="sim:c1", action="worker.view", target=str(kept.id),
                       detail="李四"))
        # …and is half-way through correcting the first one's record (/修改).
        s.add(DialogState(identity="sim:c1", dialog="registration_by_cadre", step="phone",
                          answers={"name": "王小明", "id_number": gone.id_number},
                          data={"cadre_id": cadre.id, "worker_id": gone.id},
                          started_at=NOW, updated_at=NOW))
        return {"gone": gone.id, "gone_id_number": gone.id_number, "kept": kept.id,
                "gone_household": gone.household_id, "kept_household": kept.household_id,
                "bus": bus.id, "vacancy": vacancy.id}


async def test_worker_erased_with_everything_tied_to_them(settings):
    async with BotDriver(settings) as bot:
        w = await _world(bot)
        asked = await bot.ask("u1", "注销")
        assert "确认注销" in asked and "打卡" in asked and "包车" in asked
        async with bot.app.db.session() as s:  # asking alone changes nothing
            assert await s.get(Worker, w["gone"]) is not None
            # One more alert about them is waiting to go to the cadre: it is left to go.
            s.add(OutboxMessage(platform="sim", chat="sim:private:c1", created_at=NOW,
                                text="王小明 打卡异常"))
        done = await bot.ask("u1", "确认注销")
        assert "已注销" in done
        async with bot.app.db.session() as s:
            assert await s.get(Worker, w["gone"]) is None
            assert await rows_referencing_worker(s, w["gone"]) == {}
            assert (await s.execute(select(Identity).where(
                Identity.identity.in_(["sim:u1", "qq:20001"])))).all() == []
            states = (await s.execute(select(DialogState.identity))).scalars().all()
            assert states == []  # their own, and the cadre's /修改 holding their data
            chats = (await s.execute(select(OutboxMessage.chat))).scalars().all()
            assert "qq:private:20001" not in chats
            to_cadre = (await s.execute(select(OutboxMessage.status, OutboxMessage.text).where(
                OutboxMessage.chat == "sim:private:c1").order_by(OutboxMessage.id))).all()
            assert to_cadre == [("sent", "（已注销）（歪脚村，（已注销））体温37.8；李四 正常"),
                                ("sent", "王小明 打卡异常")]  # history scrubbed; the queue kept
            assert await s.get(Household, w["gone_household"]) is None
            assert (await s.get(Bus, w["bus"])).taken == 1  # their seat is free again
            audits = (await s.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all()
            text = "\n".join(f"{a.actor} {a.action} {a.target} {a.detail}" for a in audits)
            assert "王小明" not in text and w["gone_id_number"] not in text
            assert "13812345678" not in text and "sim:u1" not in text and "20001" not in text
            erased = [a for a in audits if a.action == ERASE_ACTION]
            assert len(erased) == 1 and erased[0].target == str(w["gone"])
            assert erased[0].actor == "worker" and "checkin 2" in erased[0].detail
            # The other worker: untouched.
            kept = await s.get(Worker, w["kept"])
            assert kept is not None and kept.name == "李四"
            assert await rows_referencing_worker(s, w["kept"]) == {
                "identity.worker_id": 1, "checkin.worker_id": 2, "nudge.worker_id": 2,
                "application.worker_id": 1, "vacancypush.worker_id": 1, "busseat.worker_id": 1,
            }
            assert await s.get(Household, w["kept_household"]) is not None
            assert "sim:private:u2" in chats
            assert any(a.detail == "李四" for a in audits)
        # Afterwards they are a stranger: asked to register, and nothing left to delete.
        assert "没有您的个人信息" in await bot.ask("u1", "确认注销")
        assert "同意登记吗" in await bot.ask("u1", "你好")


async def test_every_table_referencing_workers_is_covered():
    """The erasure finds tables by foreign key: a table a feature adds later is covered too."""
    names = {f"{t.name}.{c.name}" for t, c in worker_references()}
    assert {"identity.worker_id", "checkin.worker_id", "nudge.worker_id",
            "application.worker_id", "vacancypush.worker_id", "busseat.worker_id"} <= names


def test_every_worker_id_column_is_a_foreign_key():
    """The erasure finds a worker's rows by foreign key: a ``worker_id`` column without one
    would keep personal rows behind after 注销."""
    from sqlmodel import SQLModel

    covered = {(t.name, c.name) for t, c in worker_references()}
    loose = [f"{t.name}.{c.name}" for t in SQLModel.metadata.sorted_tables for c in t.columns
             if c.name.endswith("worker_id") and (t.name, c.name) not in covered]
    assert loose == []


async def test_household_kept_while_someone_is_left_in_it(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            head = await add_worker(s, "sim:u1", name="王大山", head="王大山")
            await add_worker(s, "sim:u2", name="王小明", head="王大山", relation="子女")
        assert "已注销" in await bot.ask("u2", "确认注销")
        async with bot.app.db.session() as s:
            assert await s.get(Household, head.household_id) is not None
            assert await s.scalar(select(func.count()).select_from(Worker)) == 1


async def test_erase_in_the_middle_of_registration_keeps_the_dialog_when_only_asked(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:5])  # name, ID number and phone given
        asked = await bot.ask("u1", "注销")
        assert "没填完" in asked and "确认注销" in asked
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
            assert state is not None and state.answers["name"] == "王小明"
        assert "已删除您没填完的登记" in await bot.ask("u1", "确认注销")
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:u1") is None
            erased = (await s.execute(select(AuditLog).where(
                AuditLog.action == ERASE_ACTION))).scalars().all()
            assert [(a.actor, a.target) for a in erased] == [("worker", "")]


async def test_registered_worker_erases_while_a_dialog_is_open(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1")
        await bot.ask("u1", "登记")  # re-registering: a dialog is open
        assert "已注销" in await bot.ask("u1", "确认注销")
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Worker)) == 0
            assert await s.get(DialogState, "sim:u1") is None


async def test_nothing_to_erase_for_a_stranger(settings):
    async with BotDriver(settings) as bot:
        assert "不需要注销" in await bot.ask("u9", "注销")
        assert "不需要注销" in await bot.ask("u9", "确认注销")
        async with bot.app.db.session() as s:
            assert (await s.execute(select(AuditLog))).all() == []


async def test_in_a_group_nothing_is_erased(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1")
        out = await bot.say("u1", "确认注销", chat="group:g1")
        assert all("已注销" not in o["text"] for o in out)
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Worker)) == 1


async def test_failed_erasure_leaves_everything(settings, monkeypatch):
    """One transaction: a failure half-way deletes nothing, and the person is told."""
    import models.erase as erase

    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            worker = await add_worker(s, "sim:u1")
            s.add(Checkin(worker_id=worker.id, day=date(2024, 2, 2), at=NOW, symptoms=[]))

        original = erase._delete_where

        async def failing(session, table, where, erasure, depth=0):
            await original(session, table, where, erasure, depth)
            raise RuntimeError("disk full")

        monkeypatch.setattr(erase, "_delete_where", failing)
        reply = await bot.ask("u1", "确认注销")
        assert "没有处理成功" in reply
        async with bot.app.db.session() as s:
            assert await s.get(Worker, worker.id) is not None
            assert await rows_referencing_worker(s, worker.id) == {
                "identity.worker_id": 1, "checkin.worker_id": 1}


@pytest.mark.parametrize("text", ["注销", "我要注销", "注销登记", "删除我的信息", "注销。"])
async def test_ways_to_ask(settings, text):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1")
        assert "确认注销" in await bot.ask("u1", text)


async def test_erase_person_directly_returns_counts(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            worker = await add_worker(s, "sim:u1")
            s.add(Checkin(worker_id=worker.id, day=date(2024, 2, 2), at=NOW, symptoms=[]))
        async with bot.app.db.session() as s:
            erasure = await erase_person(s, "sim:u1", at=NOW + timedelta(days=1))
        assert erasure.worker_id == worker.id
        assert erasure.counts["worker"] == 1 and erasure.counts["checkin"] == 1
        assert erasure.counts["identity"] == 1 and erasure.counts["household"] == 1
