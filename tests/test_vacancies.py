"""Vacancies (对接岗位): posting (dialog and one line), matching and ranking with priority,
公益性岗位 eligibility, the push order and the no-duplicate rule, applying, withdrawing and
hiring — whole conversations through the replay pipeline, on SQLite and PostgreSQL — and the
precision of the matching on hand-judged pairs (``tests/data/match_pairs.tsv``)."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.messages import ChatRef
from dialogs import matching
from dialogs.matching import default_geo, job_terms, read_place, worker_terms
from models import vacancies as vq
from models.tables import Application, Vacancy, VacancyPush, Worker, WorkerTerm
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver, with_settings

JOBS = ChatRef.group("sim:jobs")
PAIRS = Path(__file__).parent / "data" / "match_pairs.tsv"
TODAY = date(2024, 2, 3)
NOW = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)

DIALOG = [
    ("/发布岗位", "用工单位"),
    ("花溪某电子厂", "岗位（工种）"),
    ("普工", "在哪里工作"),
    ("1", "乡镇或街道"),
    ("青岩", "招几个人"),
    ("20人", "月薪"),
    ("4000-5000", "要求"),
    ("跳过", "联系人和电话"),
    ("张经理 13800001111", "截止"),
    ("3月1日", "公益性岗位"),
    ("否", "请核对岗位信息"),
]
ONE_LINE = "/发布岗位 花溪某电子厂 普工 县内 20人 4000-5000 联系电话13800001111 截止3月1日"


@pytest.fixture
def jsettings(settings):
    return with_settings(settings, job_groups=(JOBS,))


async def answer_all(bot: BotDriver, user: str, steps: list[tuple[str, str]]) -> str:
    reply = ""
    for text, expected in steps:
        reply = await bot.ask(user, text)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return reply


async def post_one_line(bot: BotDriver, user: str, line: str = ONE_LINE) -> list[dict]:
    summary = await bot.ask(user, line)
    assert "请核对岗位信息" in summary, summary
    return await bot.say(user, "确认")


def private_to(out: list[dict]) -> list[str]:
    return [o["to"] for o in out if o["chat"] == "private"]


async def scalar(bot: BotDriver, query):
    async with bot.app.db.session() as s:
        return (await s.execute(query)).scalar()


# ----- posting ---------------------------------------------------------------------------------
async def test_post_by_dialog_pushes_priority_first_then_the_job_group(jsettings):
    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "bureau", name="人社局张")
            # Household 王大山: the head works, so his son is not a zero-employment household.
            await add_worker(s, None, name="王大山", status="已返岗", work_area="县内")
            await add_worker(s, "sim:plain", name="王小山", head="王大山", wanted_job="普工",
                             intent="就近就业")
            await add_worker(s, "sim:poor", name="李贫", poverty=True, wanted_job="普工",
                             intent="就近就业")  # 建档立卡 and alone in the household: 2
            await add_worker(s, "sim:zero", name="赵零", wanted_job="普工", intent="就近就业")
            await add_worker(s, "sim:moved", name="钱搬", relocated=True, head="钱老", wanted_job="普工",
                             intent="外出务工")
            await add_worker(s, None, name="钱老", status="本地已就业", head="钱老")
            await add_worker(s, "sim:busy", name="孙忙", status="已返岗", wanted_job="普工")
            await add_worker(s, "sim:notnow", name="周歇", intent="暂不就业", wanted_job="普工")
            await add_worker(s, "sim:welder", name="吴焊", skills="电焊", wanted_job="焊工",
                             intent="就近就业")
            await add_worker(s, "sim:local", name="郑近", wanted_job="普工", intent="就近就业",
                             wanted_place="花溪区内")
        # Bad answers on the way get specific re-prompts and keep the question.
        await answer_all(bot, "c1", DIALOG[:3])
        assert "回复序号或文字" in await bot.ask("c1", "火星")
        await answer_all(bot, "c1", DIALOG[3:5])
        assert "招聘人数" in await bot.ask("c1", "很多")
        assert "至少是1人" in await bot.ask("c1", "0人")
        await answer_all(bot, "c1", DIALOG[5:8])
        assert "联系电话" in await bot.ask("c1", "找张经理")
        await answer_all(bot, "c1", DIALOG[8:9])
        assert "已经过去了" in await bot.ask("c1", "2月1日")
        summary = await answer_all(bot, "c1", DIALOG[9:])
        assert "青岩镇" in summary and "20人" in summary and "4000–5000元" in summary
        out = await bot.say("c1", "确认")
        assert out[0]["to"] == "c1" and "发布成功！岗位编号 1" in out[0]["text"]
        assert "排在前面" in out[0]["text"]
        # In priority order: 建档立卡 + zero household (2), then 易地搬迁 and zero household
        # (1 each, by score: the one wanting local work first), then the rest (0).
        # The poster's two answers first; the pushes and the group post are bulk (after them).
        assert out[1]["to"] == "c1" and "5人" in out[1]["text"]
        pushed = [o["to"] for o in out[2:] if o["chat"] == "private"]
        assert pushed == ["poor", "zero", "local", "moved", "plain"], pushed
        assert all("报名 1" in o["text"] for o in out[2:7])
        group = [o for o in out if o["chat"] == "group:jobs"]
        assert len(group) == 1 and "花溪某电子厂" in group[0]["text"] and "报名 1" in group[0]["text"]
        assert out.index(group[0]) == 7  # after the private pushes (信息传递优先)
        assert "孙" not in group[0]["text"] and "138" not in group[0]["text"].replace("13800001111", "")
        assert await scalar(bot, select(func.count()).select_from(VacancyPush)) == 5
        v = await scalar(bot, select(Vacancy))
        assert (v.employer, v.title, v.area, v.township, v.headcount) == ("花溪某电子厂", "普工", "县内",
                                                                          "青岩镇", 20)
        assert (v.pay_min, v.pay_max, v.deadline, v.public_welfare) == (4000, 5000, date(2024, 3, 1),
                                                                         False)
        assert v.terms[:2] == ["普工", "类:工厂"]


async def test_post_in_one_line_asks_only_what_is_missing(jsettings):
    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "township", "青岩镇")
            await add_worker(s, "sim:w1", wanted_job="普工", intent="就近就业")
        out = await post_one_line(bot, "c1")
        assert "发布成功！岗位编号 1" in out[0]["text"]
        assert private_to(out)[2] == "w1" and any(o["chat"] == "group:jobs" for o in out)
        v = await scalar(bot, select(Vacancy).where(Vacancy.id == 1))
        assert (v.area, v.headcount, v.pay_min, v.contact) == ("县内", 20, 4000, "联系电话13800001111")

        # Missing headcount and contact: asked one by one, then the summary.
        reply = await bot.ask("c1", "/发布岗位 青岩某酒楼 服务员 青岩镇 面议 截止3月1日")
        assert "还缺：招聘人数、联系方式" in reply and "招几个人" in reply
        await answer_all(bot, "c1", [("5", "联系人和电话"), ("王老板 0851-83851234", "请核对")])
        out = await bot.say("c1", "确认")
        v = await scalar(bot, select(Vacancy).where(Vacancy.id == 2))
        assert (v.employer, v.title, v.township, v.headcount) == ("青岩某酒楼", "服务员", "青岩镇", 5)
        assert v.pay_min is None and v.pay_max is None
        assert "w1" not in private_to(out)  # 服务员 is not what w1 wants

        # A city in the line: 省外; a bad date is named, the rest kept.
        reply = await bot.ask("c1", "/发布岗位 东莞某厂 焊工 广东东莞 10人 电话13800002222 截止2月30日")
        assert "没看懂" in reply and "2月没有30日" in reply and "请核对" in reply
        assert "省外" in reply and "广东东莞" in reply
        assert "岗位要求" in reply
        await bot.ask("c1", "取消")

        garbage = await bot.ask("c1", "/发布岗位 ？？")
        assert "没看懂这一行" in garbage
        worker = await bot.ask("w1", ONE_LINE)
        assert "工作人员用的命令" in worker
        group = await bot.say("c1", "/发布岗位", chat="group:g1")
        assert "请私聊我使用" in group[0]["text"]


# ----- matching and ranking --------------------------------------------------------------------
def test_job_terms_read_synonyms_and_negation():
    assert job_terms("电焊、驾驶证C1") == ["焊工", "司机"]
    assert job_terms("在东莞电子厂做过3年普工") == ["电子厂", "普工"]
    assert job_terms("不想进厂，想送外卖") == ["外卖骑手"]
    assert job_terms("会开叉车，有叉车证") == ["叉车司机"]
    assert job_terms("扎钢筋5年、会砌砖") == ["钢筋工", "泥瓦工"]
    assert job_terms("持A2驾照") == ["货车司机", "司机"]
    assert job_terms("") == [] and job_terms(None) == []
    assert job_terms("会计") == []


def test_places_and_worker_terms_put_local_first():
    geo = default_geo()
    assert read_place("花溪区内", geo).areas == {"县内"}
    assert read_place("青岩", geo).township == "青岩镇"
    assert read_place("贵阳", geo).areas == {"省内县外"}
    east = read_place("广东东莞", geo)
    assert east.areas == {"省外"} and east.provinces == ("广东",) and east.cities == ("东莞",)
    assert read_place("哪里都行", geo).anywhere
    stay = worker_terms(wanted_job="普工", intent="就近就业", township="青岩镇")
    assert stay["地:县内"][1] > stay["地:省内县外"][1] > 0 > stay["地:省外"][1]
    assert stay["地:青岩镇"][1] > 0 and stay["普工"] == ("job", matching.W_WANTED)
    assert "入门" not in stay
    nothing = worker_terms()
    assert nothing == {"入门": ("job", matching.W_NOTHING), "地:县内": ("place", 1.0)}
    assert "入门" in worker_terms(wanted_job="什么都行", experience="种地")


def test_public_welfare_eligibility_rule():
    def reasons(**kw):
        base = dict(poverty=False, relocated=False, household_has_job=True, difficulty=None,
                    health="健康", gender="男", birth_date=date(1990, 1, 1), today=TODAY)
        return matching.public_welfare_reasons(**{**base, **kw})

    assert reasons() == []
    assert reasons(poverty=True) == ["建档立卡贫困劳动力"]
    assert reasons(relocated=True) == ["易地扶贫搬迁劳动力"]
    assert reasons(household_has_job=False) == ["零就业家庭"]
    assert reasons(difficulty="老人需要照顾") == ["家庭困难"]
    assert reasons(health="残疾") == ["残疾"]
    assert reasons(gender="女", birth_date=date(1984, 2, 3)) != []  # 40 today
    assert reasons(gender="女", birth_date=date(1984, 2, 4)) == []
    assert reasons(gender="男", birth_date=date(1974, 2, 3)) != []
    assert reasons(gender="男", birth_date=date(1980, 1, 1)) == []


def test_the_dictionary_holds_every_job_word():
    data = json.loads(matching.SYNONYMS_PATH.read_text(encoding="utf-8"))
    in_dict = {line.split()[0] for line in matching.USER_DICT_PATH.read_text("utf-8").splitlines()}
    words = {w for job in data["jobs"] for w in (job["term"], *job["words"]) if len(w) > 1}
    assert words <= in_dict, words - in_dict
    families = {job["family"] for job in data["jobs"]}
    assert families <= set(data["families"]), families - set(data["families"])


async def test_ranking_in_sql_priority_then_score_and_eligibility(settings):
    from models.db import Database

    db = Database(settings.database_url)
    await db.migrate()
    try:
        async with db.session() as s:
            geo = default_geo()
            rows = {}
            await add_worker(s, None, name="户主甲", status="已返岗", head="户主甲")
            rows["near"] = await add_worker(s, "sim:a", name="甲一", head="户主甲", wanted_job="保洁",
                                            intent="就近就业")
            rows["exp"] = await add_worker(s, "sim:b", name="乙二", head="户主甲",
                                           experience="做过保洁", intent="外出务工")
            rows["poor"] = await add_worker(s, "sim:c", name="丙三", head="户主甲", poverty=True,
                                            skills="打扫卫生")
            rows["zero"] = await add_worker(s, "sim:d", name="丁四", experience="保洁")
            rows["old"] = await add_worker(s, "sim:e", name="戊五", head="户主甲", wanted_job="保洁",
                                           gender="女", birth_date=date(1975, 5, 1),
                                           intent="就近就业")
            rows["silent"] = await add_worker(s, None, name="己六", wanted_job="保洁")
            rows["busy"] = await add_worker(s, "sim:g", name="庚七", status="本地已就业",
                                            wanted_job="保洁")
            rows["far"] = await add_worker(s, "sim:h", name="辛八", head="户主甲", wanted_job="保洁",
                                           wanted_place="广东")
            v = Vacancy(employer="某物业", title="保洁", area="县内", township="青岩镇", headcount=3,
                        created_at=NOW, updated_at=NOW)
            s.add(v)
            await s.flush()
            await vq.save_vacancy_terms(s, v, geo)
            assert await vq.refresh_worker_terms(s, geo) == 9
            assert await vq.refresh_worker_terms(s, geo) == 0  # nothing stale
            ranked = await vq.candidates_for(s, v, today=TODAY, limit=20)
            ids = {w.id: k for k, w in rows.items()}
            order = [ids.get(c.worker_id) for c in ranked]
            # 建档立卡 (1) and the zero-employment household (1) first, though they fit less;
            # then by score: wanting the job and to stay near home (in the vacancy's township)
            # first, wanting to go to 广东 later, only having done the job last.
            assert order == ["poor", "zero", "near", "old", "far", "exp"], order
            by = {ids[c.worker_id]: c for c in ranked}
            assert by["poor"].priority == by["zero"].priority == 1 and by["near"].priority == 0
            assert by["poor"].score < by["near"].score
            assert by["near"].fit == by["far"].fit and by["near"].place > by["far"].place
            assert by["far"].score > by["exp"].score
            # 公益性岗位: only the eligible (poor, zero household, a woman over 40).
            v.public_welfare = True
            ranked = await vq.candidates_for(s, v, today=TODAY, limit=20)
            assert {ids.get(c.worker_id) for c in ranked} == {"poor", "zero", "old"}
            # A push is recorded once; the told are not ranked again.
            fresh = await vq.record_pushes(s, v.id, [rows["poor"].id, rows["zero"].id], NOW)
            assert fresh == {rows["poor"].id, rows["zero"].id}
            assert await vq.record_pushes(s, v.id, [rows["poor"].id], NOW) == set()
            ranked = await vq.candidates_for(s, v, today=TODAY, limit=20)
            assert [ids.get(c.worker_id) for c in ranked] == ["old"]
            # The SQL eligibility agrees with the Python rule for everyone.
            sql = set((await s.execute(select(Worker.id).where(vq.eligible_condition(TODAY))))
                      .scalars())
            for w in rows.values():
                assert (w.id in sql) == bool(await vq.eligible(s, w, TODAY)), w.name
            # A changed profile is re-read (registration sets updated_at).
            rows["exp"].experience, rows["exp"].updated_at = "开过叉车", datetime(2024, 2, 4, tzinfo=UTC)
            s.add(rows["exp"])
            assert await vq.refresh_worker_terms(s, geo) == 1
            terms = set((await s.execute(select(WorkerTerm.term).where(
                WorkerTerm.worker_id == rows["exp"].id))).scalars())
            assert "叉车司机" in terms and "保洁" not in terms
    finally:
        await db.close()


# ----- the hand-judged pairs: precision of the top 5 --------------------------------------------
def read_pairs() -> list[dict[str, str]]:
    with open(PAIRS, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


async def precision_at_5(session) -> dict[str, dict[str, float]]:
    """For each worker, the judged vacancies ranked by ``matches_for_worker`` (top 5): the share
    of good ones among those returned (P@5) and of the good ones returned (R@5); the same from
    the vacancies' side with ``candidates_for``.  Averaged per set (tuning / holdout)."""
    geo = default_geo()
    rows = read_pairs()
    vacancies: dict[str, Vacancy] = {}
    workers: dict[str, Worker] = {}
    for r in rows:
        if r["vacancy"] not in vacancies:
            place = r["place"] or None
            v = Vacancy(employer=r["employer"], title=r["title"], requirements=r["requirements"] or None,
                        area=r["area"], township=place if r["area"] == "县内" else None,
                        city=place if r["area"] != "县内" else None, headcount=5,
                        public_welfare=r["public_welfare"] == "是", created_at=NOW, updated_at=NOW)
            session.add(v)
            await session.flush()
            await vq.save_vacancy_terms(session, v, geo)
            vacancies[r["vacancy"]] = v
        if r["worker"] not in workers:
            workers[r["worker"]] = await add_worker(
                session, None, name="测试" + r["worker"], head="户" + r["worker"],
                wanted_job=r["wanted_job"] or None, skills=r["skills"] or None,
                experience=r["experience"] or None, intent=r["intent"] or None,
                wanted_place=r["wanted_place"] or None)
    await vq.refresh_worker_terms(session, geo)
    judged: dict[tuple[str, str], dict[int, bool]] = {}
    by_vacancy: dict[tuple[str, str], dict[int, bool]] = {}
    for r in rows:
        good = r["judgment"] == "good"
        judged.setdefault((r["set"], r["worker"]), {})[vacancies[r["vacancy"]].id] = good
        by_vacancy.setdefault((r["set"], r["vacancy"]), {})[workers[r["worker"]].id] = good
    results: dict[str, dict[str, list[float]]] = {}
    for (which, code), marks in judged.items():
        found = await vq.matches_for_worker(session, workers[code], today=TODAY, limit=5,
                                            may_public_welfare=True, among=list(marks))
        hits = sum(marks[v.id] for v, _ in found)
        goods = sum(marks.values())
        figures = results.setdefault(which, {"p": [], "r": [], "vp": []})
        figures["p"].append(hits / len(found) if found else 0.0)
        figures["r"].append(hits / min(5, goods) if goods else 1.0)
    for (which, code), marks in by_vacancy.items():
        found = await vq.candidates_for(session, vacancies[code], today=TODAY, limit=5,
                                        reachable_only=False, among=list(marks))
        if found:
            results[which]["vp"].append(sum(marks[c.worker_id] for c in found) / len(found))
    return {which: {k: sum(v) / len(v) for k, v in f.items()} | {"n": len(f["p"])}
            for which, f in results.items()}


async def test_precision_at_5_on_hand_judged_pairs(settings):
    from models.db import Database

    rows = read_pairs()
    assert len(rows) >= 50
    assert {r["judgment"] for r in rows} == {"good", "poor"}
    db = Database(settings.database_url)
    await db.migrate()
    try:
        async with db.session() as s:
            figures = await precision_at_5(s)
    finally:
        await db.close()
    print("precision@5", figures)
    for which in ("tuning", "holdout"):
        assert figures[which]["p"] >= 0.9, figures
        assert figures[which]["r"] >= 0.9, figures
        assert figures[which]["vp"] >= 0.9, figures


# ----- no pushing twice, editing ---------------------------------------------------------------
async def test_edit_pushes_only_new_matches_and_nobody_twice(jsettings):
    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "village", "青岩镇", "歪脚村", name="村干部甲")
            await add_cadre(s, "sim:c2", "village", "青岩镇", "龙井村", name="村干部乙")
            await add_worker(s, "sim:w1", name="王普", wanted_job="普工", intent="就近就业")
            await add_worker(s, "sim:w2", name="李焊", skills="电焊", intent="就近就业")
            await add_worker(s, "sim:w3", name="赵看", wanted_job="普工 焊工", intent="就近就业")
        assert "现在没有在招的岗位" in await bot.ask("w3", "找工作")
        out = await post_one_line(bot, "c1")
        assert private_to(out) == ["c1", "c1", "w1", "w3"]  # the poster's answers, then pushes
        # w4 registers later and looks: what 找工作 shows counts as told.
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:w4", name="钱后", wanted_job="普工", intent="就近就业")
        listed = await bot.ask("w4", "找工作")
        assert "1. 花溪某电子厂｜普工" in listed
        out = await bot.say("c1", "/修改岗位 1")
        assert "修改岗位1" in out[0]["text"] and "2. 岗位：普工" in out[0]["text"]
        assert "岗位（工种）" in await bot.ask("c1", "修改 2")
        assert "请核对" in await bot.ask("c1", "普工、焊工")
        out = await bot.say("c1", "确认")
        assert private_to(out) == ["c1", "w2"], out  # only the welder is new (bulk: after)
        assert "又推送给1位" in out[0]["text"]
        # Nobody twice: another edit (the name /帮助 lists) finds nobody new.
        assert "修改岗位1" in await bot.ask("c1", "/岗位修改 1")
        out = await bot.say("c1", "确认")
        assert private_to(out) == ["c1"] and "又推送" not in out[0]["text"]
        assert await scalar(bot, select(func.count()).select_from(VacancyPush)) == 4
        # Someone else's vacancy: refused; an unknown number; a bad one.
        assert "不是您发布的" in await bot.ask("c2", "/修改岗位 1")
        assert "不是您发布的" in await bot.ask("c2", "/关闭岗位 1")
        assert "没有编号为9的岗位" in await bot.ask("c1", "/修改岗位 9")
        assert "用法" in await bot.ask("c1", "/修改岗位 一个")
        # Fewer places than already hired is refused at the question.
        async with bot.app.db.session() as s:
            v = await s.get(Vacancy, 1)
            v.filled = 3
        await bot.ask("c1", "/修改岗位 1")
        await bot.ask("c1", "修改 5")
        assert "已经录用了3人" in await bot.ask("c1", "2")


# ----- 公益性岗位 -----------------------------------------------------------------------------------
async def test_public_welfare_goes_only_to_the_eligible(jsettings):
    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "bureau")
            await add_worker(s, None, name="张户主", status="本地已就业", head="张户主")
            await add_worker(s, "sim:poor", name="张贫", head="张户主", poverty=True,
                             wanted_job="护林员", intent="就近就业")
            await add_worker(s, "sim:hard", name="张难", head="张户主", difficulty="老人需要照顾",
                             wanted_job="护林员", intent="就近就业")
            await add_worker(s, "sim:aunt", name="张姨", head="张户主", gender="女",
                             birth_date=date(1978, 1, 1), wanted_job="护林员", intent="就近就业")
            await add_worker(s, "sim:young", name="张壮", head="张户主", wanted_job="护林员",
                             intent="就近就业")
        out = await post_one_line(bot, "c1", "/发布岗位 区林业局 护林员 高坡 3人 面议 电话0851-83851234 "
                                             "公益性岗位")
        assert set(private_to(out)[2:]) == {"poor", "hard", "aunt"}
        assert "young" not in private_to(out)
        assert "现在没有在招的岗位" in await bot.ask("young", "找工作")  # not for him
        assert "1. 区林业局" in await bot.ask("poor", "找工作")
        refused = await bot.ask("young", "报名 1")
        assert "公益性岗位" in refused and "不能报名" in refused
        assert "报名成功" in await bot.ask("aunt", "报名 1")
        assert await scalar(bot, select(func.count()).select_from(Application)) == 1


# ----- the worker's side: apply, withdraw, bad input ---------------------------------------------
async def test_apply_list_withdraw_and_bad_input(jsettings):
    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "township", "青岩镇")
            await add_worker(s, "sim:w1", name="王小明", wanted_job="普工", intent="就近就业")
        assert "要先登记" in await bot.ask("stranger", "报名 1")
        await post_one_line(bot, "c1", ONE_LINE.replace("截止3月1日", "截止2月5日"))
        assert "没有编号为99的岗位" in await bot.ask("w1", "报名 99")
        assert "报名后面写岗位编号" in await bot.ask("w1", "报名")
        out = await bot.say("w1", "报名 1")
        assert "报名成功" in out[0]["text"] and "13800001111" in out[0]["text"]
        assert out[1]["to"] == "c1" and "王*明" in out[1]["text"] and "王小明" not in out[1]["text"]
        assert "已经报名过" in await bot.ask("w1", "我要报名1号")
        mine = await bot.ask("w1", "我的报名")
        assert "1. 花溪某电子厂 普工（县内）— 已报名" in mine
        assert "1. 花溪某电子厂" not in await bot.ask("w1", "找工作")  # applied: not offered again
        assert "已取消岗位1的报名" in await bot.ask("w1", "取消报名 1")
        assert "您没有报名岗位1" in await bot.ask("w1", "取消报名 1")
        assert "您没有报名岗位7" in await bot.ask("w1", "取消报名7")
        assert "已取消" in await bot.ask("w1", "我的报名")
        assert "报名成功" in await bot.ask("w1", "报名 1")  # again, after withdrawing
        # Past the deadline nobody can apply.
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:w2", name="李小红", wanted_job="普工")
        await bot.feed({"clock": "2024-02-06T09:00"})
        assert "报名已在2月5日截止" in await bot.ask("w2", "报名 1")
        # Closed: nobody can apply, the waiting applicant is told.
        await post_one_line(bot, "c1")
        assert "报名成功" in await bot.ask("w1", "报名 2")
        out = await bot.say("c1", "/关闭岗位 2")
        assert "已关闭" in out[0]["text"] and "已通知1位" in out[0]["text"]
        assert out[-1]["to"] == "w1" and "已停止招聘" in out[-1]["text"]  # bulk: after the answer
        assert "已经停止招聘" in await bot.ask("w2", "报名 2")
        assert "已经关闭了" in await bot.ask("c1", "/关闭岗位 2")
        assert "没有编号为5的岗位" in await bot.ask("c1", "/关闭岗位 5")
        assert "工作人员用的命令" in await bot.ask("w1", "/关闭岗位 1")


# ----- hiring ------------------------------------------------------------------------------------
async def test_hire_updates_worker_household_vacancy_and_tally(jsettings):
    from models.tally import compute_tally

    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "bureau")
            await add_worker(s, "sim:w1", name="王小明", head="王大山", wanted_job="普工",
                             intent="就近就业")
            await add_worker(s, "sim:w2", name="王小红", head="王大山", wanted_job="普工",
                             intent="就近就业")
            await add_worker(s, "sim:w3", name="李焊", skills="电焊", intent="外出务工")
        await post_one_line(bot, "c1", "/发布岗位 花溪某电子厂 普工 青岩镇 1人 4000 电话13800001111")
        await post_one_line(bot, "c1", "/发布岗位 东莞某钢构厂 焊工 广东东莞 2人 6000-8000 电话13800002222")
        for who, number in (("w1", 1), ("w2", 1), ("w3", 2)):
            assert "报名成功" in await bot.ask(who, f"报名 {number}")
        async with bot.app.db.session() as s:
            before = await compute_tally(s, TODAY)
        listing = await bot.ask("c1", "/报名名单 1")
        assert "王小明" in listing and "王小红" in listing and "138****" in listing
        assert not re.search(r"\d{11}", listing)
        # Bad input first.
        assert "录用谁" in await bot.ask("c1", "/录用 1")
        assert "没有“张三”" in await bot.ask("c1", "/录用 1 张三")
        assert "没有编号99" in await bot.ask("c1", "/录用 1 编号99")
        assert "没有编号为8的岗位" in await bot.ask("c1", "/录用 8 王小明")
        out = await bot.say("c1", "/录用 1 王小明")
        to_worker = [o for o in out if o["to"] == "w1"]
        assert "恭喜" in to_worker[0]["text"] and "花溪某电子厂" in to_worker[0]["text"]
        done = next(o for o in out if o["to"] == "c1")["text"]
        assert "就业状态改为本地已就业" in done and "1/1" in done
        assert "该户现有1人就业（登记2人）" in done and "自动关闭" in done
        assert any(o["to"] == "w2" and "已经招满" in o["text"] for o in out)
        assert "已经登记录用过了" in await bot.ask("c1", "/录用 1 王小明")
        assert "已经录满" in await bot.ask("c1", "/录用 1 王小红")
        assert "已经招满" in await bot.ask("w2", "报名 1")
        # 省外: 已返岗, with the place; by phone tail; a withdrawn applicant cannot be hired.
        async with bot.app.db.session() as s:
            w3 = (await s.execute(select(Worker).where(Worker.name == "李焊"))).scalar()
        assert "已取消岗位2的报名" in await bot.ask("w3", "取消报名 2")
        assert "取消了报名" in await bot.ask("c1", f"/录用 2 {w3.phone[-4:]}")
        await bot.ask("w3", "报名 2")
        assert "就业状态改为已返岗" in await bot.ask("c1", f"/录用 2 {w3.phone[-4:]}")
        assert "已录用" in await bot.ask("w3", "我的报名")
        assert "不能在这里取消" in await bot.ask("w3", "取消报名 2")
        async with bot.app.db.session() as s:
            w1 = (await s.execute(select(Worker).where(Worker.name == "王小明"))).scalar()
            w3 = await s.get(Worker, w3.id)
            v1, v2 = await s.get(Vacancy, 1), await s.get(Vacancy, 2)
            after = await compute_tally(s, TODAY)
        assert (w1.status, w1.employer, w1.work_area) == ("本地已就业", "花溪某电子厂", "县内")
        assert (w3.status, w3.work_area, w3.work_city) == ("已返岗", "省外", "广东东莞")
        assert (v1.filled, v1.status, v2.filled, v2.status) == (1, "closed", 1, "open")
        t0, t1 = before.total.figures, after.total.figures
        assert t1.employed == t0.employed + 2 and t1.employed_county == t0.employed_county + 1
        assert t1.zero_households == t0.zero_households - 2  # 王大山's and 李焊's
        assert t1.vacancies_filled == 2


# ----- who sees whom ---------------------------------------------------------------------------
async def test_applicants_are_shown_by_scope_and_managers_are_checked(jsettings):
    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:bureau", "bureau", name="人社局")
            await add_cadre(s, "sim:vw", "village", "青岩镇", "歪脚村", name="歪脚村干部")
            await add_cadre(s, "sim:ts", "township", "石板镇", name="石板镇干部")
            await add_cadre(s, "sim:tq", "township", "青岩镇", name="青岩镇干部")
            await add_worker(s, "sim:w1", name="王小明", wanted_job="普工")
            await add_worker(s, "sim:w2", name="李小红", township="石板镇", village="合朋村",
                             wanted_job="普工")
        await post_one_line(bot, "bureau")
        await post_one_line(bot, "vw", ONE_LINE.replace("花溪某电子厂", "歪脚村合作社"))
        for who in ("w1", "w2"):
            for number in (1, 2):
                assert "报名成功" in await bot.ask(who, f"报名 {number}")
        village = await bot.ask("vw", "/报名名单 1")
        assert "王小明" in village and "李小红" not in village and "李*红" not in village
        assert "另有1人不在您的范围" in village
        township = await bot.ask("ts", "/报名名单 1")
        assert "李小红" in township and "王小明" not in township
        everyone = await bot.ask("bureau", "/报名名单 1")
        assert "王小明" in everyone and "李小红" in everyone and "录用请发" in everyone
        own = await bot.ask("vw", "/报名名单 2")  # the village cadre's own: the other one masked
        assert "王小明" in own and "李*红" in own and "李小红" not in own
        assert "合朋村" in own and "录用请发" in own
        # A village cadre manages only their own vacancy; the township the village's.
        assert "不是您发布的" in await bot.ask("vw", "/关闭岗位 1")
        assert "不是您发布的" in await bot.ask("vw", "/录用 1 王小明")
        assert "不是您发布的" in await bot.ask("ts", "/关闭岗位 2")
        masked = await bot.ask("vw", "/录用 2 李*红")
        assert "没有" in masked
        async with bot.app.db.session() as s:
            w2 = (await s.execute(select(Worker).where(Worker.name == "李小红"))).scalar()
        hired = await bot.ask("vw", f"/录用 2 编号{w2.id}")
        assert "李*红" in hired and "李小红" not in hired
        assert "已关闭" in await bot.ask("tq", "/关闭岗位 2")
        # Workers and groups.
        assert "工作人员用的命令" in await bot.ask("w1", "/报名名单 1")
        group = await bot.say("bureau", "/报名名单 1", chat="group:g1")
        assert "请私聊我使用" in group[0]["text"]
        listing = await bot.ask("vw", "/岗位 全部")
        assert "1. 花溪某电子厂" in listing and "2. 歪脚村合作社" in listing and "报名2人" in listing
        assert "已停止招聘" in listing
        assert "2. 歪脚村合作社" in await bot.ask("vw", "/岗位 我的")
        assert "2. 歪脚村合作社" not in await bot.ask("vw", "/岗位")
        detail = await bot.ask("vw", "/岗位 1")
        assert "【岗位1】" in detail and "报名2人" in detail and "人社局" in detail
        assert "用法" in await bot.ask("vw", "/岗位 什么")


async def test_find_jobs_for_the_employed_unregistered_and_when_nothing_fits(jsettings):
    async with BotDriver(jsettings) as bot:
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:c1", "bureau")
            await add_worker(s, "sim:busy", name="孙忙", status="已返岗", wanted_job="普工")
            await add_worker(s, "sim:cook", name="周厨", wanted_job="厨师", intent="就近就业")
        assert "要先登记" in await bot.ask("nobody", "找工作")
        out = await post_one_line(bot, "c1")
        assert "busy" not in private_to(out) and "cook" not in private_to(out)
        busy = await bot.ask("busy", "我想找工作")
        assert "已返岗" in busy and "1. 花溪某电子厂" in busy
        cook = await bot.ask("cook", "有什么工作")
        assert "暂时没有和您想做的“厨师”对得上" in cook and "1. 花溪某电子厂" in cook
        menu = await bot.ask("cook", "帮助")
        assert "找工作" in menu
