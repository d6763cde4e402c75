"""The tally's figures against a district counted by hand, its scopes, its time-zone edges,
'since yesterday', ``/统计`` for each role and ``/统计 导出`` — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from models.tables import Application, Checkin, Enterprise, Vacancy
from models.tally import Figures, compute_tally, day_bounds, load_trend, save_snapshot
from scheduler.report_text import tally_table
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver

BJ = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 2, 3)
EARLIER = datetime(2024, 2, 1, 2, 0, tzinfo=UTC)


def bj(text: str) -> datetime:
    """A Beijing wall-clock time, e.g. bj("2024-02-03 23:59")."""
    return datetime.fromisoformat(text).replace(tzinfo=BJ)


def checkin(worker_id: int, at: datetime, abnormal: bool = False, superseded: bool = False) -> Checkin:
    """A check-in as the check-in handler stores it: ``day`` is the Beijing date of ``at``."""
    return Checkin(worker_id=worker_id, day=at.astimezone(BJ).date(), at=at, temperature=37.9
                   if abnormal else 36.5, abnormal=abnormal, superseded=superseded, text="x")


async def district(session) -> dict[str, int]:
    """Ten workers in two townships, counted by hand in the comments (day: 2024-02-03)."""
    w: dict[str, int] = {}

    async def add(key, name, township, village, head, **fields):
        fields.setdefault("registered_at", EARLIER)
        worker = await add_worker(session, None, name=name, township=township, village=village,
                                  head=head, **fields)
        w[key] = worker.id

    # 青岩镇/歪脚村 — household 张大: w1 returned (省外, 建档立卡), w2 jobless wanting work nearby
    await add("w1", "张大", "青岩镇", "歪脚村", "张大", status="已返岗", work_area="省外", poverty=True)
    await add("w2", "张二", "青岩镇", "歪脚村", "张大", status="暂无岗位", intent="就近就业")
    # household 李四: w3 has a job waiting (待返岗) — so not a zero-employment household
    await add("w3", "李四", "青岩镇", "歪脚村", "李四", status="待返岗", work_area="省内县外")
    # household 王五: nobody with a job → zero-employment; w5 registered 23:59 Beijing today
    await add("w4", "王五", "青岩镇", "歪脚村", "王五", status="暂无岗位", intent="暂不就业",
              relocated=True)
    await add("w5", "王六", "青岩镇", "歪脚村", "王五", status="暂无岗位", intent="外出务工",
              poverty=True, registered_at=bj("2024-02-03 23:59"))
    # 青岩镇/龙井村 — household 赵七: w6 local job (县内, 易地搬迁) registered 00:01 today;
    # w7 returned, work area not given, registered 23:59 *yesterday*
    await add("w6", "赵七", "青岩镇", "龙井村", "赵七", status="本地已就业", work_area="县内",
              relocated=True, registered_at=bj("2024-02-03 00:01"))
    await add("w7", "赵八", "青岩镇", "龙井村", "赵七", status="已返岗",
              registered_at=bj("2024-02-02 23:59"))
    # 石板镇/石板村 — household 孙九: nobody with a job; w8 registered 00:01 *tomorrow*
    await add("w8", "孙九", "石板镇", "石板村", "孙九", status="暂无岗位", intent="外出务工",
              registered_at=bj("2024-02-04 00:01"))
    await add("w9", "孙十", "石板镇", "石板村", "孙九", status="暂无岗位")
    # household 周一: w10 returned (省内县外, 建档立卡)
    await add("w10", "周一", "石板镇", "石板村", "周一", status="已返岗", work_area="省内县外",
              poverty=True)

    session.add_all([
        checkin(w["w1"], bj("2024-02-03 23:59")),  # today, at the last minute
        checkin(w["w2"], bj("2024-02-03 08:00"), abnormal=True, superseded=True),  # corrected…
        checkin(w["w2"], bj("2024-02-03 08:05")),  # …to a normal reading
        checkin(w["w4"], bj("2024-02-03 09:00"), abnormal=True),
        checkin(w["w6"], bj("2024-02-03 00:01")),  # today, at the first minute
        checkin(w["w8"], bj("2024-02-04 00:01")),  # tomorrow (still the 3rd in UTC)
        checkin(w["w3"], bj("2024-02-02 23:59")),  # yesterday (the 2nd, 15:59 UTC)
    ])
    now = EARLIER

    def vacancy(vid, township, area, headcount, filled, status="open", deadline=None,
                public=False) -> Vacancy:
        return Vacancy(id=vid, employer="某公司", title="普工", area=area, township=township,
                       headcount=headcount, filled=filled, status=status, deadline=deadline,
                       public_welfare=public, created_at=now, updated_at=now)

    session.add_all([
        vacancy(1, "青岩镇", "县内", 5, 2, public=True),  # open, 3 places
        vacancy(2, "青岩镇", "县内", 3, 3, status="closed"),
        vacancy(3, None, "省外", 10, 1),  # open, 9 places (district total only)
        vacancy(4, "石板镇", "县内", 4, 0, deadline=date(2024, 2, 2)),  # deadline passed
        vacancy(5, "石板镇", "县内", 2, 5),  # open, over-filled: 0 places
        vacancy(6, "青岩镇", "县内", 1, 1, status="closed", public=True),
    ])
    await session.flush()

    def app_(vid, key, status) -> Application:
        return Application(vacancy_id=vid, worker_id=w[key], status=status, created_at=now,
                           updated_at=now)

    session.add_all([
        app_(1, "w1", "hired"), app_(6, "w1", "hired"),  # two public-welfare jobs: one person
        app_(1, "w10", "hired"),  # 石板镇 worker placed on a 青岩镇 public-welfare post
        app_(1, "w2", "applied"),
        app_(3, "w3", "hired"),  # not public welfare
    ])
    session.add_all([
        Enterprise(name="甲厂", township="青岩镇", shortage=20, reported_at=now),
        Enterprise(name="乙厂", township="青岩镇", shortage=5, reported_at=now),
        Enterprise(name="丙厂", township="石板镇", shortage=7, reported_at=now),
        Enterprise(name="丁厂", township=None, shortage=3, reported_at=now),
    ])
    await session.flush()
    return w


QINGYAN = Figures(
    registered=7, new=2, employed=3, employed_county=1, employed_province=0, employed_outside=1,
    waiting_return=1, seeking=2, poverty=2, poverty_employed=1, relocated=2, relocated_employed=1,
    households=4, zero_households=1, public_welfare=1, checked_in=4, abnormal=1,
    vacancies_open=1, places_open=3, vacancies_filled=6, shortage=25)
SHIBAN = Figures(
    registered=3, new=0, employed=1, employed_county=0, employed_province=1, employed_outside=0,
    waiting_return=0, seeking=1, poverty=1, poverty_employed=1, relocated=0, relocated_employed=0,
    households=2, zero_households=1, public_welfare=1, checked_in=0, abnormal=0,
    vacancies_open=1, places_open=0, vacancies_filled=5, shortage=7)
TOTAL = Figures(
    registered=10, new=2, employed=4, employed_county=1, employed_province=1, employed_outside=1,
    waiting_return=1, seeking=3, poverty=3, poverty_employed=2, relocated=2, relocated_employed=1,
    households=6, zero_households=2, public_welfare=2, checked_in=4, abnormal=1,
    vacancies_open=3, places_open=12, vacancies_filled=12, shortage=35)


async def test_figures_match_the_hand_count(settings):
    async with BotDriver(settings) as bot:
        names = [t.name for t in bot.app.services.townships.all]
        async with bot.app.db.session() as s:
            await district(s)
        async with bot.app.db.session() as s:
            tally = await compute_tally(s, DAY, tz=BJ, townships=names)
    assert tally.level == "township" and tally.area == "全区"
    assert [r.area for r in tally.rows] == names  # every township, in the district's order
    assert tally.row("青岩镇").figures == QINGYAN
    assert tally.row("石板镇").figures == SHIBAN
    assert tally.total.figures == TOTAL
    for row in tally.rows:
        if row.area not in ("青岩镇", "石板镇"):
            assert row.figures == Figures(vacancies_open=0, places_open=0, vacancies_filled=0,
                                          shortage=0)
    t = tally.total.figures
    assert t.waiting == 4 and t.employed_area_unknown == 1
    assert t.share == 0.4 and t.checkin_rate == 0.4
    assert tally.total.previous is None and tally.total.delta("employed") is None


async def test_a_township_has_rows_per_village_and_a_village_one_row(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await district(s)
        async with bot.app.db.session() as s:
            town = await compute_tally(s, DAY, "青岩镇", tz=BJ)
            village = await compute_tally(s, DAY, "青岩镇", "歪脚村", tz=BJ)
            empty = await compute_tally(s, DAY, "青岩镇", "没人村", tz=BJ)
    assert town.level == "village" and [r.area for r in town.rows] == ["歪脚村", "龙井村"]
    wj, lj = town.row("歪脚村").figures, town.row("龙井村").figures
    assert (wj.registered, wj.employed, wj.households, wj.zero_households, wj.checked_in,
            wj.abnormal, wj.new, wj.seeking) == (5, 1, 3, 1, 3, 1, 1, 2)
    assert (lj.registered, lj.employed, lj.households, lj.zero_households, lj.checked_in,
            lj.new) == (2, 2, 1, 0, 1, 1)
    assert wj.vacancies_open is None and wj.shortage is None  # not village figures
    assert town.total.figures == QINGYAN  # the township's rows add up to its line in the report
    assert [r.area for r in village.rows] == ["歪脚村"]
    assert village.total.figures == replace(wj) and village.total.figures.shortage is None
    assert village.area == "青岩镇歪脚村"
    assert empty.total.figures.registered == 0 and [r.area for r in empty.rows] == ["没人村"]


async def test_time_zone_edges_count_by_beijing_date(settings):
    """Registered or checked in at 23:59 and 00:01 Beijing time land on the Beijing date."""
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await district(s)
        async with bot.app.db.session() as s:
            yesterday = await compute_tally(s, DAY - timedelta(days=1), tz=BJ)
            today = await compute_tally(s, DAY, tz=BJ)
            tomorrow = await compute_tally(s, DAY + timedelta(days=1), tz=BJ)
    # new: w7 (2nd 23:59) | w6 (3rd 00:01), w5 (3rd 23:59) | w8 (4th 00:01)
    assert (yesterday.total.figures.new, today.total.figures.new, tomorrow.total.figures.new) \
        == (1, 2, 1)
    # check-ins: w3 (2nd 23:59) | w1 (3rd 23:59), w6 (3rd 00:01), w2, w4 | w8 (4th 00:01)
    assert (yesterday.total.figures.checked_in, today.total.figures.checked_in,
            tomorrow.total.figures.checked_in) == (1, 4, 1)
    assert day_bounds(DAY, BJ) == (datetime(2024, 2, 2, 16, tzinfo=UTC),
                                   datetime(2024, 2, 3, 16, tzinfo=UTC))


async def test_since_yesterday_and_the_trend_come_from_snapshots(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await district(s)
        async with bot.app.db.session() as s:
            before = await compute_tally(s, DAY - timedelta(days=1), tz=BJ)
            before.total.figures.employed = 1
            before.total.figures.zero_households = 5
            before.row("青岩镇").figures.employed = 0
            await save_snapshot(s, before, EARLIER)
            await save_snapshot(s, before, EARLIER)  # saving again replaces
        async with bot.app.db.session() as s:
            tally = await compute_tally(s, DAY, tz=BJ)
            trend = await load_trend(s, DAY)
            town = await compute_tally(s, DAY, "青岩镇", tz=BJ)
    assert tally.total.delta("employed") == 3 and tally.total.delta("zero_households") == -3
    assert tally.row("青岩镇").delta("employed") == 3
    assert [d for d, _ in trend] == [DAY - timedelta(days=1)]
    assert trend[0][1].employed == 1
    assert town.total.delta("employed") == 3  # the township's own snapshot
    assert town.row("歪脚村").previous is None  # villages are not saved


async def staff(bot: BotDriver) -> None:
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")


async def test_statistics_command_is_scoped_by_role(settings, tmp_path):
    settings = replace(settings, target_date=date(2024, 2, 29))
    async with BotDriver(settings, start="2024-02-03T16:00") as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            await district(s)
        district_view = await bot.ask("dist", "/统计")
        assert "【花溪区返岗就业统计】2月3日 16:00" in district_view
        assert "返岗目标日 2月29日，还有 26 天\n已返岗就业 40%（4/10 人）" in district_view
        assert "登记 10 人，今日新增 2" in district_view
        assert "返岗就业 4 人（40%）" in district_view
        assert "零就业户 2 户（共6户）" in district_view
        assert "今日打卡 4 人（40%）\n打卡异常 1 人" in district_view
        assert "▪青岩镇 登记7 返岗3(43%)\n　待返岗1 待就业2 零就业1户\n　打卡57% 异常1" in district_view
        assert "尚无登记：" in district_view and "麦坪镇" in district_view

        village = await bot.ask("vil", "/统计")
        assert "【青岩镇歪脚村返岗就业统计】" in village and "登记 5 人" in village
        assert "石板" not in village and "龙井村" not in village
        denied = await bot.ask("vil", "/统计 石板镇")
        assert "不在您的范围" in denied

        town = await bot.ask("town", "/统计")
        assert "【青岩镇返岗就业统计】" in town and "〔各村/社区〕" in town
        assert "▪歪脚村 登记5" in town and "▪龙井村 登记2" in town
        assert "企业缺工 25 人" in town
        assert "登记 5 人" in await bot.ask("town", "/统计 歪脚村")
        assert "不在您的范围" in await bot.ask("town", "/统计 石板镇")

        assert "登记 3 人" in await bot.ask("dist", "/统计 石板")  # any township, fuzzy name
        bureau = await bot.ask("bur", "/统计")
        assert "登记 10 人" in bureau and "打卡" not in bureau and "异常" not in bureau

        worker = await bot.ask("w1", "/统计")
        assert "工作人员用的命令" in worker
        # in a group: the same aggregates, and no one's name
        out = await bot.say("town", "/统计", chat="group:g1")
        assert out and out[0]["chat"] == "group:g1" and "登记 7 人" in out[0]["text"]
        assert "张大" not in out[0]["text"]


async def test_the_numbers_agree_with_the_lists(settings):
    """/名单 零就业户 and /名单 公益岗 count what the tally counts."""
    async with BotDriver(settings, start="2024-02-03T16:00") as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            await district(s)
        assert "共 2 户" in await bot.ask("dist", "/名单 零就业户")
        assert "共 2 人" in await bot.ask("dist", "/名单 公益岗")
        assert "共 1 人" in await bot.ask("dist", "/名单 异常")
        assert "共 1 户" in await bot.ask("vil", "/名单 零就业户")


async def test_export_writes_the_same_table(settings, tmp_path):
    settings = replace(settings, extra={"export_dir": str(tmp_path / "exports")})
    async with BotDriver(settings, start="2024-02-03T16:00") as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            await district(s)
        out = await bot.say("dist", "/统计 导出")
        assert len(out) == 1 and out[0]["to"] == "dist" and out[0]["file"].endswith(".xlsx")
        async with bot.app.db.session() as s:
            tally = await compute_tally(s, DAY, tz=BJ,
                                        townships=[t.name for t in bot.app.services.townships.all])
        headers, rows = tally_table(tally)
        ws = load_workbook(out[0]["file"]).active
        assert [c.value for c in ws[2]] == headers
        got = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
        assert got == rows
        assert got[-1][:3] == ["合计（全区）", 10, 2]
        in_group = await bot.say("dist", "/统计 导出", chat="group:g1")
        assert "私聊" in in_group[0]["text"] and "file" not in in_group[0]
        bureau = await bot.say("bur", "/统计 导出")
        ws = load_workbook(bureau[0]["file"]).active
        assert "打卡率" not in [c.value for c in ws[2]]


async def test_village_counts_for_the_whole_district_match_the_tally_of_each_township(settings):
    """The villages-to-watch check counts every village at once; its figures and villages must be
    the tally's (a superseded check-in, two check-ins of one worker, yesterday's, an empty village,
    a village with masks handed out and nobody registered, masks in a township without workers)."""
    from models.departure import MaskHandout
    from models.tally import village_counts

    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await district(s)
            extra = await add_worker(s, None, name="赵六", township="石板镇", village="",
                                     registered_at=EARLIER)
            s.add(checkin(extra.id, bj("2024-02-03 08:00")))
            s.add(checkin(extra.id, bj("2024-02-03 09:00")))
            s.add(checkin(extra.id, bj("2024-02-02 09:00")))
            s.add_all([MaskHandout(township=t, village=v, count=5, at=EARLIER)
                       for t, v in (("石板镇", "摆勺"), ("青岩镇", "歪脚村"), ("高坡苗族乡", "甲定村"))])
        async with bot.app.db.session() as s:
            counts = await village_counts(s, DAY)
            expected = {}
            for township in ("青岩镇", "石板镇"):
                tally = await compute_tally(s, DAY, township, tz=BJ)
                for row in tally.rows:
                    expected[(township, row.area)] = (row.figures.registered,
                                                      row.figures.checked_in)
    assert counts == expected
    assert counts[("石板镇", "（未填）")] == (1, 1)
    assert counts[("石板镇", "摆勺")] == (0, 0) and ("高坡苗族乡", "甲定村") not in counts
