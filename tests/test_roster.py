"""Rosters in Excel: the export's columns, the round trip (export, re-import, nothing changed),
flexible import of a village's own sheet, and rejected rows (nothing half imported)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.clock import ManualClock
from models import roster
from models.tables import AuditLog, Checkin, Household, Worker
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver, with_settings
from tests.ids import make_id
from tests.test_cli import cli

AT = datetime(2024, 2, 3, 1, 0, tzinfo=UTC)
CLOCK = ManualClock(AT)


def person(birth: str, seq: str) -> dict:
    """ID number with gender and birth date that agree with it."""
    return {"id_number": make_id(birth=birth, seq=seq), "gender": "男" if int(seq[-1]) % 2 else "女",
            "birth_date": date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))}


async def populate(bot: BotDriver) -> None:
    """Workers of every kind, as the chat registration would store them."""
    async with bot.app.db.session() as s:
        cadre = await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        a = await add_worker(s, "sim:w1", name="王大山", relation="本人", group_name="3组",
                             phone="13812345678", poverty=True, health="健康", status="待返岗",
                             work_area="省外", work_city="广东东莞", employer="东莞某某电子厂",
                             return_date=date(2024, 2, 15), return_mode="包车点对点",
                             skills="电焊、驾驶证C1", experience="在东莞电子厂做过3年普工",
                             **person("19700301", "131"))
        await add_worker(s, None, name="李秀英", head="王大山", relation="配偶", group_name="3组",
                         phone="13812345678", relocated=True, poverty=True, health="慢性病",
                         symptoms=["咳嗽", "乏力"], difficulty="家里有老人需要照顾",
                         status="暂无岗位", intent="就近就业", wanted_job="保洁",
                         wanted_place="花溪区内", salary_min=3000, salary_max=5000,
                         entered_by=cadre.id, **person("19720612", "242"))
        await add_worker(s, "sim:w3", name="王小虎", head="王大山", relation="子女", phone=None,
                         health="健康", status="已返岗", work_area="县内", employer="青岩古镇景区",
                         **person("19980101", "151"))
        await add_worker(s, "sim:w4", name="阿依古丽·买买提", relation="本人", village="龙井村",
                         phone="13900001111", health="残疾", status="暂无岗位", intent="外出务工",
                         wanted_job="普工", wanted_place="广东", salary_min=4000, salary_max=None,
                         **person("19851230", "224"))
        await add_worker(s, "sim:w5", name="张秋生", relation="本人", township="孟关苗族布依族乡",
                         village="高寨村", phone="13700002222", health="健康", status="本地已就业",
                         work_area="县内", employer="孟关某某农业公司", **person("19900909", "351"))
        await add_worker(s, None, name="刘冬梅", relation="本人", phone="13600003333",
                         health="其他", status="暂无岗位", intent="暂不就业",
                         salary_min=None, salary_max=6000, **person("19950505", "462"))
        w1 = (await s.execute(select(Worker).where(Worker.name == "王大山"))).scalar()
        s.add(Checkin(worker_id=w1.id, day=date(2024, 2, 3), at=AT, temperature=36.6,
                      symptoms=[], location="在家", text="36.6 正常"))
        assert a


async def snapshot(bot: BotDriver) -> tuple[list[tuple], list[tuple]]:
    async with bot.app.db.session() as s:
        workers = [tuple(getattr(w, c) for c in Worker.model_fields)
                   for w in (await s.execute(select(Worker).order_by(Worker.id))).scalars()]
        households = [(h.id, h.township, h.village, h.head_name) for h in
                      (await s.execute(select(Household).order_by(Household.id))).scalars()]
    return workers, households


async def run_import(settings, path, area: str = "", check: bool = False) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await roster.cli_import(settings, str(path), area, check, out, err, clock=CLOCK)
    return code, out.getvalue() + err.getvalue()


async def test_export_columns_and_sheets(settings, tmp_path):
    async with BotDriver(settings) as bot:
        await populate(bot)
        out, err = io.StringIO(), io.StringIO()
        path = tmp_path / "all.xlsx"
        assert await roster.cli_export(settings, "", str(path), out, err, clock=CLOCK) == 0, err.getvalue()
        assert "已导出 全区：务工人员 6 人、家庭户 4 户、今日打卡 1 人" in out.getvalue()
        wb = load_workbook(path)
        assert wb.sheetnames == ["务工人员", "家庭户", "今日打卡"]
        ws = wb["务工人员"]
        header = [c.value for c in ws[1]]
        for title in ("序号", "姓名", "性别", "身份证号", "联系电话", "乡镇（街道）", "村（社区）", "组",
                      "户主姓名", "与户主关系", "人员类别", "健康状况", "就业状态", "务工地点",
                      "就业单位", "返岗时间", "返岗方式", "就业意愿", "期望工种"):
            assert title in header
        rows = {r[header.index("姓名")]: dict(zip(header, r, strict=True))
                for r in ws.iter_rows(min_row=2, values_only=True)}
        li = rows["李秀英"]
        assert li["身份证号"] == make_id(birth="19720612", seq="242")  # full, as text
        assert ws.cell(row=2, column=header.index("身份证号") + 1).number_format == "@"
        assert (li["户主姓名"], li["与户主关系"], li["性别"]) == ("王大山", "配偶", "女")
        assert li["人员类别"] == "建档立卡贫困劳动力、易地扶贫搬迁劳动力"
        assert (li["近期症状"], li["期望月薪"], li["录入人"]) == ("咳嗽、乏力", "3000-5000", "李书记")
        big = rows["王大山"]
        assert big["返岗时间"] == datetime(2024, 2, 15) and big["返岗方式"] == "包车点对点"
        assert big["录入人"] == "本人" and big["户主姓名"] == "王大山" and big["与户主关系"] == "本人"
        households = list(wb["家庭户"].iter_rows(min_row=2, values_only=True))
        wang = next(h for h in households if h[3] == "王大山")
        assert wang[4:8] == (3, 2, "否", 2)  # 3 registered, 2 employed, not 零就业, 2 建档立卡
        liu = next(h for h in households if h[3] == "刘冬梅")
        assert liu[6] == "是"
        checkins = list(wb["今日打卡"].iter_rows(min_row=2, values_only=True))
        assert len(checkins) == 6 and sum(1 for c in checkins if c[5] == "是") == 1
        async with bot.app.db.session() as s:
            [row] = (await s.execute(select(AuditLog).where(AuditLog.action == "export"))).scalars()
        assert row.actor == "cli" and row.target == "全区"


async def test_round_trip_changes_nothing(settings, tmp_path):
    async with BotDriver(settings) as bot:
        await populate(bot)
        before = await snapshot(bot)
        path = tmp_path / "roster.xlsx"
        out, err = io.StringIO(), io.StringIO()
        assert await roster.cli_export(settings, "", str(path), out, err, clock=CLOCK) == 0
        code, report = await run_import(settings, path)
        assert code == 0, report
        assert "新增 0 人，更新 0 人，没有变化 6 人" in report
        assert await snapshot(bot) == before
        # the export a cadre gets in chat round-trips the same way
        chat = with_settings(settings, extra={"export_dir": str(tmp_path)})
    async with BotDriver(chat) as bot:
        # (the bot starting at 09:00 also sends the day's missed check-in prompts)
        [msg] = [m for m in await bot.say("vil", "/导出") if m.get("to") == "vil"]
        code, report = await run_import(settings, msg["file"])
        assert code == 0 and "没有变化 4 人" in report, report
        assert await snapshot(bot) == before


async def test_edited_export_updates_and_adds(settings, tmp_path):
    async with BotDriver(settings) as bot:
        await populate(bot)
        path = tmp_path / "roster.xlsx"
        await roster.cli_export(settings, "青岩镇/歪脚村", str(path), io.StringIO(), io.StringIO(),
                                clock=CLOCK)
        wb = load_workbook(path)
        ws = wb["务工人员"]
        header = [c.value for c in ws[1]]
        col = {h: i + 1 for i, h in enumerate(header)}
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, col["姓名"]).value == "刘冬梅":
                ws.cell(r, col["联系电话"]).value = "13600009999"
                ws.cell(r, col["就业状态"]).value = "本地已就业"
        new = ws.max_row + 1
        for title, value in {"姓名": "赵新来", "身份证号": make_id(birth="20000101", seq="571"),
                             "乡镇（街道）": "青岩", "村（社区）": "歪脚村", "户主姓名": "赵新来",
                             "就业状态": "待返岗", "返岗时间": "2024-02-20"}.items():
            ws.cell(new, col[title]).value = value
        wb.save(path)
        code, report = await run_import(settings, path)
        assert code == 0 and "新增 1 人，更新 1 人，没有变化 3 人" in report, report
        async with bot.app.db.session() as s:
            liu = (await s.execute(select(Worker).where(Worker.name == "刘冬梅"))).scalar()
            zhao = (await s.execute(select(Worker).where(Worker.name == "赵新来"))).scalar()
        assert (liu.phone, liu.status) == ("13600009999", "本地已就业")
        assert (zhao.township, zhao.relation, zhao.return_date, zhao.gender) == (
            "青岩镇", "本人", date(2024, 2, 20), "男")
        assert zhao.entered_by is None and zhao.consent_at is None


def village_sheet(path: Path, rows: list[list], header: list[str] | None = None) -> None:
    """A sheet the way a village keeps it: a title row, then its own column names."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(["青岩镇歪脚村外出务工人员摸排登记表"])
    ws.merge_cells("A1:L1")
    ws.append(header or ["编号", "姓 名", "公民身份号码", "联系电话\n（手机）", "组别", "户主",
                         "与户主的关系", "是否建档立卡", "身体状况", "务工状态", "务工地点",
                         "预计返岗时间"])
    for row in rows:
        ws.append(row)
    ws.append([])
    ws.append(["填表人：李书记    审核人：孙镇长"])
    wb.save(path)


async def test_import_a_village_sheet_with_its_own_headers(settings, tmp_path):
    path = tmp_path / "歪脚村.xlsx"
    id_a, id_b = make_id(birth="19800202", seq="611"), make_id(birth="19820303", seq="622")
    village_sheet(path, [
        [1, "杨 光", id_a, 13512345678, "1", "本人", "户主", "是", "良好", "待返岗", "广东深圳",
         datetime(2024, 2, 18)],
        [2, "周丽", id_b.lower(), "135-1234-0000", "一组", "杨光", "妻子", "否",
         "健康", "没工作", "", None],
    ])
    async with BotDriver(settings) as bot:
        code, report = await run_import(settings, path, area="青岩镇/歪脚村")
        assert code == 0, report
        assert "工作表“Sheet1”：共 2 行数据" in report and "新增 2 人" in report
        async with bot.app.db.session() as s:
            yang = (await s.execute(select(Worker).where(Worker.name == "杨光"))).scalar()
            zhou = (await s.execute(select(Worker).where(Worker.name == "周丽"))).scalar()
        assert (yang.township, yang.village, yang.group_name, yang.phone) == (
            "青岩镇", "歪脚村", "1组", "13512345678")
        assert yang.poverty and yang.relation == "本人" and yang.health == "健康"
        assert (yang.status, yang.work_area, yang.work_city, yang.return_date) == (
            "待返岗", "省外", "广东深圳", date(2024, 2, 18))
        assert (zhou.relation, zhou.status, zhou.household_id, zhou.phone) == (
            "配偶", "暂无岗位", yang.household_id, "13512340000")
        # imported people are found by cadres like anyone else
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村")
        assert "杨光" in await bot.ask("vil", "/查 杨光")


async def test_bad_rows_are_reported_and_nothing_is_imported(settings, tmp_path):
    path = tmp_path / "bad.xlsx"
    good = make_id(birth="19800202", seq="611")
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    village_sheet(path, [
        [1, "杨光", good, "13512345678", "1", "本人", "户主", "是", "健康", "待返岗", "广东深圳", None],
        [2, "周丽", bad_check, "135123", "1", "杨光", "妻子", "否", "健康", "暂无岗位", "", None],
        [3, "吴三", make_id(birth="19900101", seq="631"), "", "1", "吴三", "", "否", "健康", "", "",
         None],
        [4, "郑四", good, "", "1", "郑四", "", "否", "健康", "暂无岗位", "", None],
        [5, "钱五", 520111199001016310, "", "1", "钱五", "", "否", "健康", "暂无岗位", "", None],
        [6, "孙六", make_id(birth="19900101", seq="651"), "", "1", "孙六", "", "否", "很差",
         "暂无岗位", "", "下下个月"],
    ])
    async with BotDriver(settings) as bot:
        before = await snapshot(bot)
        code, report = await run_import(settings, path, area="青岩镇/歪脚村")
        assert code == 1
        assert "有 5 行不符合要求，本次没有导入任何数据" in report
        assert "第4行：身份证号“" in report and "校验不对" in report and "联系电话“135123”有误" in report
        assert "第5行：就业状态没填" in report
        assert "第6行：身份证号与第3行重复" in report
        line7 = next(line for line in report.splitlines() if "第7行" in line)
        assert "被Excel存成了数字" in line7 and "文本" in line7
        assert "第8行：健康状况“很差”看不懂" in report and "返岗时间“下下个月”有误" in report
        assert "第3行：" not in report
        assert await snapshot(bot) == before
        # --check only reads
        village_sheet(path, [[1, "杨光", good, "13512345678", "1", "本人", "户主", "是", "健康",
                              "待返岗", "广东深圳", None]])
        code, report = await run_import(settings, path, area="青岩镇/歪脚村", check=True)
        assert code == 0 and "检查通过（未写入）：将新增 1 人" in report
        assert await snapshot(bot) == before


async def test_unreadable_files(settings, tmp_path):
    async with BotDriver(settings):
        code, report = await run_import(settings, tmp_path / "missing.xlsx")
        assert code == 2 and "找不到文件" in report
        (tmp_path / "notes.xlsx").write_text("not a workbook")
        code, report = await run_import(settings, tmp_path / "notes.xlsx")
        assert code == 2 and ".xlsx" in report
        wb = Workbook()
        wb.active.append(["甲", "乙"])
        wb.save(tmp_path / "other.xlsx")
        code, report = await run_import(settings, tmp_path / "other.xlsx")
        assert code == 2 and "没有找到表头" in report
        village_sheet(tmp_path / "nowhere.xlsx", [[1, "杨光", make_id(seq="611"), "", "1", "本人", "",
                                                   "否", "健康", "暂无岗位", "", None]])
        code, report = await run_import(settings, tmp_path / "nowhere.xlsx")
        assert code == 1 and "乡镇（街道）没填" in report and "村（社区）没填" in report
        code, report = await run_import(settings, tmp_path / "nowhere.xlsx", area="火星镇")
        assert code == 2 and "范围有误" in report


def test_header_matching():
    for header, key in [("身份证", "id_number"), ("身份证号码（18位）", "id_number"),
                        ("公民身份号码", "id_number"), ("联系电话\n(手机)", "phone"),
                        ("乡镇（街道）", "township"), ("村(社区)", "village"), ("户主姓名", "head"),
                        ("户主", "head"), ("与户主关系", "relation"), ("姓 名", "name"),
                        ("务工地点（省内/省外）", "work_area"), ("期望月薪(元)", "wanted_salary"),
                        ("序号", None), ("备注", None), (None, None)]:
        assert roster.match_header(header) == key, header


def test_cli_export_and_import(database_url, tmp_path):
    out = tmp_path / "cli.xlsx"
    done = cli(database_url, "export", "--area", "青岩/歪脚村", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "务工人员 0 人" in done.stdout and out.exists()
    done = cli(database_url, "import", str(out))
    assert done.returncode == 0, done.stderr
    assert "新增 0 人" in done.stdout
    done = cli(database_url, "import", str(tmp_path / "none.xlsx"))
    assert done.returncode == 2 and "找不到文件" in done.stderr and "Traceback" not in done.stderr
