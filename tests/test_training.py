"""Skills training (技能培训): posting a course (dialog and one line) with its re-prompts, telling
the workers whose skills or wanted job fit its trade (priority first, each once, only the
course's own area), signing up within the seats — also when several sign up at the same
moment — withdrawing, the masked trainee list and the Excel export, recording completion on the
worker (shown in /查 and 我的信息, and read by vacancy matching), permissions and groups: whole
conversations through the replay pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.messages import ChatRef
from dialogs import matching
from models import training as tq
from models.tables import AuditLog, Worker, WorkerTerm
from models.training import Training, TrainingPush, TrainingSignup
from tests.factories import NOW, add_cadre, add_worker
from tests.harness import BotDriver, with_settings

JOBS = ChatRef.group("sim:jobs")
DIALOG = [
    ("/发布培训", "培训什么工种"),
    ("电焊培训", "在哪里培训"),
    ("花溪区职业技术学校", "哪天开班"),
    ("3月1日到10日", "多少个名额"),
    ("3", "补贴"),
    ("免费培训，结业补贴1500元", "报名咨询"),
    ("王老师 0851-83851234", "请核对培训信息"),
]
ONE_LINE = "/发布培训 电焊 花溪区职业技术学校 3月1日到3月10日 3人 补贴1500元 电话0851-83851234"
AFTER_START = "2024-03-02T09:00"  # the course (3月1日–10日) has begun


@pytest.fixture
def tsettings(settings, tmp_path):
    return with_settings(settings, job_groups=(JOBS,),
                         extra={**settings.extra, "export_dir": str(tmp_path / "exports")})


async def answer_all(bot: BotDriver, user: str, steps: list[tuple[str, str]]) -> str:
    reply = ""
    for text, expected in steps:
        reply = await bot.ask(user, text)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return reply


async def scalar(bot: BotDriver, query):
    async with bot.app.db.session() as s:
        return (await s.execute(query)).scalar()


def told(out: list[dict], number: int = 1) -> list[str]:
    """Who was told privately of course ``number`` (in the order the messages went)."""
    return [o["to"] for o in out if o["chat"] == "private" and "【技能培训】" in o["text"]
            and f"培训报名 {number}”" in o["text"]]


async def people(bot: BotDriver) -> dict[str, int]:
    """Staff of 青岩镇 and the district, and workers: welders in several shapes, others who do
    not fit, one of another township and one who cannot be reached."""
    ids = {}
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:town2", "township", "石板镇", name="周镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:vil2", "village", "青岩镇", "龙井村", name="吴书记")
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        await add_worker(s, None, name="王大山", status="已返岗", work_area="县内")  # his son's job
        for user, name, fields in [
            ("want", "王小山", {"head": "王大山", "wanted_job": "焊工", "intent": "就近就业"}),
            ("poor", "李贫", {"poverty": True, "skills": "电焊", "intent": "外出务工"}),
            ("past", "赵经历", {"head": "王大山", "experience": "在工地做过电焊",
                               "village": "龙井村"}),
            ("cook", "钱厨", {"wanted_job": "厨师", "intent": "就近就业"}),
            ("blank", "孙空", {}),  # named nothing: 入门 work, not a course
            ("busy", "周忙", {"status": "本地已就业", "wanted_job": "焊工"}),
            ("notnow", "吴歇", {"intent": "暂不就业", "wanted_job": "焊工"}),
            ("away", "郑外", {"township": "石板镇", "village": "石板村", "wanted_job": "焊工"}),
            (None, "冯无", {"wanted_job": "焊工"}),
        ]:
            w = await add_worker(s, f"sim:{user}" if user else None, name=name, **fields)
            ids[user or name] = w.id
    return ids


# ----- posting and telling -----------------------------------------------------------------------
async def test_post_by_dialog_tells_the_workers_it_fits_priority_first_once(tsettings):
    async with BotDriver(tsettings) as bot:
        ids = await people(bot)
        # Bad answers are met with a Chinese re-prompt, and the question stays.
        await answer_all(bot, "town", DIALOG[:1])
        assert "请写培训的工种" in await bot.ask("town", "确认")
        await answer_all(bot, "town", DIALOG[1:2])
        assert "请写在哪里培训" in await bot.ask("town", "1")
        await answer_all(bot, "town", DIALOG[2:3])
        assert "已经过去了" in await bot.ask("town", "2月1日到2月5日")
        assert "比开班的日子还早" in await bot.ask("town", "3月10日到3月1日")
        assert "具体的日子" in await bot.ask("town", "过几天")
        await answer_all(bot, "town", DIALOG[3:4])
        assert "请回复一个数字" in await bot.ask("town", "很多")
        assert "1 到 500" in await bot.ask("town", "0")
        await answer_all(bot, "town", DIALOG[4:5])
        assert "有什么补贴" in await bot.ask("town", "有")
        summary = await answer_all(bot, "town", DIALOG[5:])
        for shown in ("培训工种：电焊", "2024年3月1日至3月10日（10天）", "名额：3人",
                      "补贴：免费培训，结业补贴1500元"):
            assert shown in summary, summary
        out = await bot.say("town", "确认")
        replies = [o["text"] for o in out if o.get("to") == "town"]
        assert "发布成功！培训编号 1" in replies[0] and "面向：青岩镇的务工人员" in replies[0]
        assert "排在前面" in replies[0] and "通知已全部排队发出（3人）" in replies[-1]
        # Priority first: 建档立卡 in a household with nobody employed (2), then 赵经历, whose
        # household (in 龙井村) has nobody employed (1), though only having done the job fits
        # less than 王小山's wanting it (his father works: 0).  Not told: the cook, the one who
        # named nothing, the one with a job, the one who said 暂不就业, the one in 石板镇 (not
        # this township's course) and the one who cannot be reached.
        assert told(out) == ["poor", "past", "want"], told(out)
        card = next(o["text"] for o in out if o.get("to") == "poor")
        assert card.startswith("【技能培训】李贫，您好！") and "地点：花溪区职业技术学校" in card
        group = [o for o in out if o["chat"] == "group:jobs"]
        assert len(group) == 1 and "培训报名 1" in group[0]["text"] and "电焊技能培训" in group[0]["text"]
        for name in ("李贫", "王小山", "赵经历", "138"):
            assert name not in group[0]["text"]
        async with bot.app.db.session() as s:
            t = await s.get(Training, 1)
            pushed = set((await s.execute(select(TrainingPush.worker_id))).scalars())
        assert (t.trade, t.place, t.starts_on, t.ends_on, t.seats) == (
            "电焊", "花溪区职业技术学校", date(2024, 3, 1), date(2024, 3, 10), 3)
        assert (t.township, t.village, t.contact) == ("青岩镇", None, "王老师 0851-83851234")
        assert pushed == {ids["poor"], ids["want"], ids["past"]}
        # Told once: what 找培训 shows them counts as told, and a told worker is not told again.
        assert "1. 电焊" in await bot.ask("want", "找培训")
        assert await scalar(bot, select(func.count()).select_from(TrainingPush)) == 3
        async with bot.app.db.session() as s:
            assert await tq.record_pushes(s, 1, [ids["want"], ids["cook"]], NOW) == {ids["cook"]}
            assert await tq.candidates(s, t, limit=50) == []
        audit = await scalar(bot, select(AuditLog.action).where(AuditLog.target == "1"))
        assert audit == "training.post"


async def test_post_in_one_line_asks_only_what_is_missing(tsettings):
    async with BotDriver(tsettings) as bot:
        await people(bot)
        summary = await bot.ask("dist", ONE_LINE)
        assert "请核对培训信息" in summary and "还缺" not in summary
        for shown in ("培训工种：电焊", "培训地点：花溪区职业技术学校", "名额：3人", "补贴：补贴1500元",
                      "报名咨询：电话0851-83851234"):
            assert shown in summary, summary
        out = await bot.say("dist", "确认")
        # The district's course is for everyone: 石板镇's welder is told too.
        assert set(told(out)) == {"poor", "want", "past", "away"}
        async with bot.app.db.session() as s:
            assert (await s.get(Training, 1)).township is None

        # Missing seats and subsidy: asked one by one, then the summary; an optional contact
        # not in the line stays empty.
        reply = await bot.ask("town", "/发布培训 叉车培训 青岩镇就业服务中心 3月1日开班，培训5天")
        assert "还缺：名额、补贴" in reply and "多少个名额" in reply
        summary = await answer_all(bot, "town", [("20人", "补贴"), ("无", "请核对培训信息")])
        assert "培训工种：叉车" in summary and "3月1日至3月5日（5天）" in summary
        assert "报名咨询：（未填）" in summary and "补贴：无" in summary
        await bot.ask("town", "取消")

        # A part not understood is named; the rest is kept.
        reply = await bot.ask("town", "/发布培训 家政 青岩镇 2月30日 10人 免费")
        assert "没看懂" in reply and "2月没有30日" in reply and "哪天开班" in reply
        assert "没看懂这一行" in await bot.ask("town", "/发布培训 ？？")
        assert "工作人员用的命令" in await bot.ask("poor", ONE_LINE)
        group = await bot.say("town", "/发布培训", chat="group:g1")
        assert "请私聊我使用" in group[0]["text"]


async def test_a_trade_the_dictionary_does_not_know_is_posted_but_told_to_nobody(tsettings):
    async with BotDriver(tsettings) as bot:
        await people(bot)
        await bot.ask("bur", "/发布培训 电子商务 区就业局 3月1日 20人 免费")
        out = await bot.say("bur", "确认")
        assert told(out) == []
        reply = next(o["text"] for o in out if o.get("to") == "bur")
        assert "没能从“电子商务”认出是哪个工种" in reply and "已发到1个招聘群" in reply
        assert any(o["chat"] == "group:jobs" for o in out)


def test_course_terms_come_from_the_matching_dictionary():
    assert set(matching.title_terms("电焊培训")) == {"焊工"}  # 技工: no family credit
    assert set(matching.title_terms("钢筋工")) == {"钢筋工", "类:建筑"}
    assert matching.ENTRY not in matching.title_terms("保洁")  # a course is not 入门 work
    assert matching.title_terms("电子商务") == {}
    wanted = matching.worker_terms(wanted_job="电焊工")
    t = Training(trade="电焊", place="x", starts_on=date(2024, 3, 1), ends_on=date(2024, 3, 1),
                 seats=1, subsidy="无", created_at=NOW, updated_at=NOW)
    assert tq.fit_for(wanted, t) == matching.W_WANTED * matching.V_TITLE
    assert tq.fit_for(matching.worker_terms(), t) == 0


# ----- signing up ------------------------------------------------------------------------------------
async def post(bot: BotDriver, user: str = "town", line: str = ONE_LINE) -> list[dict]:
    assert "请核对培训信息" in await bot.ask(user, line)
    return await bot.say(user, "确认")


async def test_sign_up_within_the_seats_withdraw_and_my_courses(tsettings):
    async with BotDriver(tsettings) as bot:
        ids = await people(bot)
        await post(bot)
        out = await bot.say("want", "培训报名 1")
        ok = next(o["text"] for o in out if o.get("to") == "want")
        assert "报名成功！培训1：电焊" in ok and "您是第1位（名额3人）" in ok and "取消培训 1" in ok
        note = next(o["text"] for o in out if o.get("to") == "town")
        assert "王*山（青岩镇歪脚村）" in note and "已报1/3人" in note and "王小山" not in note
        assert "不用重复报名" in await bot.ask("want", "报名培训1")
        assert "您是第2位" in await bot.ask("poor", "我要报名培训 1号")
        assert "您是第3位" in await bot.ask("cook", "培训报名 编号1")  # anyone of 青岩镇 may sign up
        assert "3个名额已经报满了" in await bot.ask("blank", "培训报名 1")
        # A withdrawal frees the seat; signing up again takes one again.
        assert "已取消培训1（电焊）的报名" in await bot.ask("cook", "取消培训 1")
        assert "您没有报名培训1" in await bot.ask("cook", "取消培训 1")
        assert "您是第3位" in await bot.ask("blank", "培训报名 1")
        assert "3个名额已经报满了" in await bot.ask("cook", "培训报名 1")
        mine = await bot.ask("want", "我的培训")
        assert "1. 电焊，3月1日至3月10日（10天），花溪区职业技术学校 — 已报名" in mine
        assert "取消培训 编号" in mine
        info = await bot.ask("want", "我的信息")
        assert "技能培训：电焊 已报名，3月1日开班" in info
        # Who may not, and why.
        assert "只招青岩镇的务工人员" in await bot.ask("away", "培训报名 1")
        assert "要先登记" in await bot.ask("stranger", "培训报名 1")
        assert "没有编号为9的培训" in await bot.ask("want", "培训报名 9")
        assert "写上培训编号" in await bot.ask("want", "培训报名")
        assert "写上要取消的培训编号" in await bot.ask("want", "取消培训")
        assert "您还没有报名培训" in await bot.ask("past", "我的培训")
        async with bot.app.db.session() as s:
            assert await tq.taken(s, 1) == 3
            signups = (await s.execute(select(TrainingSignup.worker_id, TrainingSignup.status)
                                       .order_by(TrainingSignup.id))).all()
        assert [(w, st) for w, st in signups] == [
            (ids["want"], "signed"), (ids["poor"], "signed"), (ids["cook"], "withdrawn"),
            (ids["blank"], "signed")]
        # Closed, then begun: no more sign-ups, no withdrawal in chat.
        assert "不是您发布的" in await bot.ask("vil", "/关闭培训 1")
        assert "不是您发布的" in await bot.ask("town2", "/关闭培训 1")
        closed = await bot.ask("town", "/关闭培训 1")
        assert "已停止报名" in closed and "已报名的3人名额保留" in closed
        assert "已经停止报名了" in await bot.ask("dist", "/关闭培训 1")
        assert "已经停止报名" in await bot.ask("cook", "培训报名 1")
        late = await bot.ask("poor", "取消培训 1", at=AFTER_START)
        assert "已经在3月1日开班了" in late and "王老师" not in late and "0851-83851234" in late


async def test_find_courses_shows_what_the_worker_may_join_fitting_first(tsettings):
    async with BotDriver(tsettings) as bot:
        await people(bot)
        assert "现在没有您能报名的培训" in await bot.ask("cook", "有什么培训")
        await post(bot, "dist", "/发布培训 厨师 区职校 3月5日到3月8日 1人 免费")
        await post(bot, "dist", "/发布培训 电焊 区职校 3月1日 30人 免费")
        await post(bot, "vil2", "/发布培训 种养殖 龙井村委会 3月2日 20人 无")  # 龙井村's own
        listing = await bot.ask("cook", "找培训")
        lines = listing.splitlines()
        assert lines[1].startswith("1. 厨师") and lines[2].startswith("2. 电焊"), listing
        assert "种养殖" not in listing  # 钱厨 lives in 歪脚村
        assert "种养殖" in await bot.ask("past", "培训")  # 赵经历 lives in 龙井村
        assert "您是第1位" in await bot.ask("cook", "培训报名 1")
        again = await bot.ask("want", "找培训")
        assert "厨师" not in again and again.splitlines()[1].startswith("2. 电焊")  # full: not shown
        assert "厨师" not in await bot.ask("cook", "找培训")  # signed up already
        assert "要先登记" in await bot.ask("stranger", "找培训")


async def _race(bot: BotDriver, users: list[str], number: int) -> list[str]:
    results = await asyncio.gather(*(bot.say(u, f"培训报名 {number}") for u in users))
    outputs = [o for out in results for o in out] + await bot.feed({"sync": 1})
    return [o["text"] for o in outputs if o.get("to") in users]


async def test_two_workers_signing_up_at_the_same_moment_never_overfill(tsettings):
    async with BotDriver(tsettings) as bot:
        await people(bot)
        async with bot.app.db.session() as s:
            s.add(Training(trade="电焊", place="区职校", starts_on=date(2024, 3, 1),
                           ends_on=date(2024, 3, 10), seats=1, subsidy="无", created_at=NOW,
                           updated_at=NOW))
        texts = await _race(bot, ["want", "poor"], 1)
        assert sum("报名成功" in t for t in texts) == 1
        assert sum("已经报满了" in t for t in texts) == 1
        assert await scalar(bot, select(func.count()).select_from(TrainingSignup)) == 1


async def test_many_workers_racing_for_few_seats(tsettings):
    async with BotDriver(tsettings) as bot:
        await people(bot)
        async with bot.app.db.session() as s:
            s.add(Training(trade="家政", place="区职校", starts_on=date(2024, 3, 1),
                           ends_on=date(2024, 3, 1), seats=3, subsidy="无", created_at=NOW,
                           updated_at=NOW))
            for i in range(8):
                await add_worker(s, f"sim:r{i}", name=f"赛跑{'一二三四五六七八'[i]}")
        for _ in range(2):  # twice, so a second wave meets a full course too
            texts = await _race(bot, [f"r{i}" for i in range(8)], 1)
        async with bot.app.db.session() as s:
            assert await tq.taken(s, 1) == 3
            assert (await s.execute(select(func.count()).select_from(TrainingSignup))).scalar() == 3
        assert sum("报名成功" in t for t in texts) == 0
        assert sum("已经报满了" in t or "不用重复报名" in t for t in texts) == 8


# ----- the list, the export, completion ----------------------------------------------------------------
async def test_trainee_list_and_export_show_each_cadre_only_their_scope(tsettings):
    async with BotDriver(tsettings) as bot:
        ids = await people(bot)
        await post(bot, "dist")
        for user in ("want", "past", "away"):
            assert "报名成功" in await bot.ask(user, "培训报名 1")
        full = await bot.ask("dist", "/培训名单 1")
        assert "报名3/3人" in full
        for shown in ("王小山 青岩镇歪脚村 138****", "赵经历 青岩镇龙井村", "郑外 石板镇石板村"):
            assert shown in full, full
        assert "/培训结业 1 全部" in full and "/培训导出 1" in full
        village = await bot.ask("vil", "/培训名单 1")
        assert "王小山" in village and "赵经历" not in village and "郑外" not in village
        assert "另有2人不在您的范围（青岩镇歪脚村）内" in village
        assert "/培训结业" not in village  # not theirs to record
        group = await bot.say("dist", "/培训名单 1", chat="group:g1")
        assert "请私聊我使用" in group[0]["text"] and "王" not in group[0]["text"]
        # The export: full ID numbers and phones, only of the asker's scope, privately.
        out = await bot.say("town", "/培训导出 1")
        assert len(out) == 1 and out[0]["chat"] == "private" and "file" in out[0]
        assert "已导出：2人（另有1人不在您的范围（青岩镇）内，没有导出）" in out[0]["text"]
        sheet = load_workbook(out[0]["file"])["培训名单"]
        rows = [[c.value for c in r] for r in sheet.iter_rows()]
        assert rows[0][:6] == ["序号", "系统编号", "姓名", "性别", "身份证号", "联系电话"]
        async with bot.app.db.session() as s:
            want = await s.get(Worker, ids["want"])
        assert rows[1][2] == "王小山" and rows[1][4] == want.id_number and rows[1][5] == want.phone
        assert {r[2] for r in rows[1:]} == {"王小山", "赵经历"} and rows[1][14] == "已报名"
        info = {r[0].value: r[1].value for r in load_workbook(out[0]["file"])["培训信息"].iter_rows()}
        assert info["培训工种"] == "电焊" and info["名额"] == "3人"
        assert "没有编号为2的培训" in await bot.ask("town2", "/培训导出 2")
        assert "已导出：1人（另有2人不在您的范围（青岩镇龙井村）内" in await bot.ask("vil2", "/培训导出 1")
        assert "已导出：1人（另有2人不在您的范围（石板镇）内" in await bot.ask("town2", "/培训导出 1")
        group = await bot.say("town", "/培训导出 1", chat="group:g1")
        assert "请私聊我使用" in group[0]["text"] and "file" not in group[0]
        async with bot.app.db.session() as s:
            actions = (await s.execute(select(AuditLog.actor, AuditLog.action).where(
                AuditLog.action.in_(("training.trainees", "training.export")))
                .order_by(AuditLog.id))).all()
        assert [tuple(a) for a in actions] == [
            ("sim:dist", "training.trainees"), ("sim:vil", "training.trainees"),
            ("sim:town", "training.export"), ("sim:vil2", "training.export"),
            ("sim:town2", "training.export")]


async def test_completion_is_recorded_on_the_worker(tsettings):
    async with BotDriver(tsettings) as bot:
        ids = await people(bot)
        await post(bot)
        for user in ("want", "poor", "past"):
            assert "报名成功" in await bot.ask(user, "培训报名 1")
        early = await bot.ask("town", "/培训结业 1 编号1")
        assert "还没开班（3月1日开班），开班以后才能登记结业" in early
        assert "不是您发布的" in await bot.ask("town2", "/培训结业 1 全部", at=AFTER_START)
        assert "谁结业了" in await bot.ask("town", "/培训结业 1")
        # One unknown name: nothing is recorded.
        nothing = await bot.ask("town", f"/培训结业 1 编号{ids['want']}、张无名")
        assert "没有“张无名”，这次没有登记" in nothing
        assert await scalar(bot, select(func.count()).where(TrainingSignup.status == "completed")) == 0
        out = await bot.say("town", f"/培训结业 1 编号 {ids['want']}、李贫")
        reply = next(o["text"] for o in out if o.get("to") == "town")
        assert "已登记结业：王小山、李贫（2人）" in reply and "已结业2/3人" in reply
        congrats = [o for o in out if o.get("to") in ("want", "poor")]
        assert len(congrats) == 2 and all("您已完成电焊培训" in o["text"] for o in congrats)
        again = await bot.ask("town", "/培训结业 1 全部")
        assert "已登记结业：赵经历（1人）" in again and "已结业3/3人" in again
        assert "没有等待登记结业的人" in await bot.ask("town", "/培训结业 1 全部")
        assert "之前已经登记过结业" in await bot.ask("town", "/培训结业 1 李贫")
        # On the worker: the skill (read by vacancy matching), /查, 我的信息, 我的培训.
        async with bot.app.db.session() as s:
            want = await s.get(Worker, ids["want"])
            poor = await s.get(Worker, ids["poor"])
        assert want.skills == "电焊（培训结业）" and poor.skills == "电焊；电焊（培训结业）"
        assert want.updated_at > NOW
        record = await bot.ask("town", f"/查 编号{ids['want']}")
        assert "技能：电焊（培训结业）" in record and "培训：电焊 3月2日结业" in record
        assert "技能培训：电焊 3月2日结业" in await bot.ask("want", "我的信息")
        assert "— 已结业（3月2日）" in await bot.ask("want", "我的培训")
        assert "已经参加过培训1（电焊）并结业了" in await bot.ask("want", "培训报名 1")
        assert "不用取消" in await bot.ask("want", "取消培训 1")
        listing = await bot.ask("town", "/培训名单 1")
        assert "报名3/3人，已结业3人" in listing and listing.count("已结业（") == 3
        from models import vacancies as vq

        async with bot.app.db.session() as s:
            await vq.refresh_worker_terms(s, matching.default_geo(), [ids["past"]])
            weight = (await s.execute(select(WorkerTerm.weight).where(
                WorkerTerm.worker_id == ids["past"], WorkerTerm.term == "焊工"))).scalar()
        assert weight == matching.W_SKILL  # was only experience (2) before the course
        assert await scalar(bot, select(AuditLog.detail).where(
            AuditLog.action == "training.complete").order_by(AuditLog.id.desc())) == "0人"


async def test_staff_lists_and_roles(tsettings):
    async with BotDriver(tsettings) as bot:
        await people(bot)
        assert "没有正在招生的培训" in await bot.ask("bur", "/培训")
        await post(bot, "vil")  # 歪脚村's own course
        await post(bot, "dist", "/发布培训 厨师 区职校 3月5日 10人 免费")
        listing = await bot.say("bur", "/培训", chat="group:g1")  # no personal data: fine in a group
        text = listing[0]["text"]
        assert "1. 电焊｜花溪区职业技术学校｜3月1日至3月10日（10天）｜已报0/3人" in text
        assert "面向青岩镇歪脚村" in text and "2. 厨师" in text
        assert "您发布的培训" in await bot.ask("vil", "/培训 我的")
        assert "2. 厨师" not in await bot.ask("vil", "/培训 我的")
        detail = await bot.ask("town", "/培训 1")
        assert "状态：正在招生，已报名0人" in detail and "发布：李书记（青岩镇歪脚村）" in detail
        assert "用法" in await bot.ask("town", "/培训 明天")
        # The village course: its poster and 青岩镇 manage it, the other village does not.
        assert "不是您发布的" in await bot.ask("vil2", "/关闭培训 1")
        assert "已停止报名" in await bot.ask("town", "/关闭培训 1")
        assert "只招青岩镇歪脚村的务工人员" in await bot.ask("past", "培训报名 1")
        assert "最近的培训" in await bot.ask("town", "/培训 全部")
        assert "已经停止报名" in await bot.ask("town", "/培训 全部")
        assert "工作人员用的命令" in await bot.ask("want", "/培训名单 1")


async def test_erasure_frees_the_seat(tsettings):
    async with BotDriver(tsettings) as bot:
        await people(bot)
        await post(bot)
        assert "报名成功" in await bot.ask("want", "培训报名 1")
        assert "确认注销" in await bot.ask("want", "注销")
        await bot.ask("want", "确认注销")
        async with bot.app.db.session() as s:
            assert await tq.taken(s, 1) == 0
            assert (await s.execute(select(func.count()).select_from(TrainingSignup))).scalar() == 0
            assert (await s.execute(select(func.count()).select_from(TrainingPush).where(
                TrainingPush.worker_id.not_in(select(Worker.id))))).scalar() == 0


async def test_candidates_rank_priority_then_fit(settings):
    from models import vacancies as vq
    from models.db import Database

    db = Database(settings.database_url)
    await db.migrate()
    try:
        async with db.session() as s:
            await add_worker(s, None, name="户主甲", status="已返岗", head="户主甲")
            rows = {
                "want": await add_worker(s, "sim:a", name="甲一", head="户主甲", wanted_job="泥瓦工"),
                "skill": await add_worker(s, "sim:b", name="乙二", head="户主甲", skills="会砌砖"),
                "past": await add_worker(s, "sim:c", name="丙三", head="户主甲", experience="贴瓷砖"),
                "kin": await add_worker(s, "sim:d", name="丁四", head="户主甲", wanted_job="钢筋工"),
                "poor": await add_worker(s, "sim:e", name="戊五", head="户主甲", poverty=True,
                                         wanted_job="扎钢筋"),
                "near": await add_worker(s, "sim:h", name="辛八", head="户主甲",
                                         experience="在工地扎钢筋"),  # 1: too far
                "weld": await add_worker(s, "sim:f", name="己六", head="户主甲", wanted_job="焊工"),
                "any": await add_worker(s, "sim:g", name="庚七", head="户主甲", wanted_job="什么都行"),
            }
            t = Training(trade="泥瓦工", place="区职校", starts_on=date(2024, 3, 1),
                         ends_on=date(2024, 3, 1), seats=5, subsidy="无", created_at=NOW,
                         updated_at=NOW)
            s.add(t)
            await s.flush()
            await vq.refresh_worker_terms(s, matching.default_geo())
            ranked = await tq.candidates(s, t, limit=20)
            name = {w.id: k for k, w in rows.items()}
            # 建档立卡 first, though a neighbouring building trade fits least; then the wanted
            # job, the skill, the experience, and a neighbouring trade wanted.  Not told: one who
            # only worked in a neighbouring trade, a welder (a licence of its own) and one who
            # would take anything.
            assert [name[c.worker_id] for c in ranked] == ["poor", "want", "skill", "past", "kin"]
            assert [c.fit for c in ranked] == [2.0, 10.0, 7.5, 5.0, 2.0]
            assert await tq.candidates(s, t, limit=2) == ranked[:2]
    finally:
        await db.close()
