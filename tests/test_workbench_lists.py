"""/名单 and /帮助 for each role: scope, masking, paging, private-only, the bureau's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from models.tables import Application, AuditLog, Checkin, Vacancy
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver

TODAY = date(2024, 2, 3)
AT = datetime(2024, 2, 3, 0, 30, tzinfo=UTC)


async def staff(bot: BotDriver) -> None:
    async with bot.app.db.session() as s:
        await add_cadre(s, "sim:dist", "district", name="赵专班")
        await add_cadre(s, "sim:bur", "bureau", name="钱就业")
        await add_cadre(s, "sim:town", "township", "青岩镇", name="孙镇长")
        await add_cadre(s, "sim:vil", "village", "青岩镇", "歪脚村", name="李书记")
        await add_cadre(s, "sim:vil2", "village", "孟关苗族布依族乡", "高寨村", name="周书记")


def checkin(worker_id: int, temperature: float, symptoms=(), abnormal=False, **kw) -> Checkin:
    return Checkin(worker_id=worker_id, day=TODAY, at=AT, temperature=temperature,
                   symptoms=list(symptoms), abnormal=abnormal, text=f"{temperature}", **kw)


async def people(bot: BotDriver) -> dict[str, int]:
    """Workers in two villages of 青岩镇 and one of 孟关; some checked in, one abnormal."""
    ids = {}
    async with bot.app.db.session() as s:
        for name, village, township, status, ident in [
            ("王小明", "歪脚村", "青岩镇", "待返岗", "sim:w1"),
            ("王大山", "歪脚村", "青岩镇", "暂无岗位", "sim:w2"),
            ("李春花", "龙井村", "青岩镇", "暂无岗位", "sim:w3"),
            ("张秋生", "高寨村", "孟关苗族布依族乡", "已返岗", "sim:w4"),
            ("刘冬梅", "歪脚村", "青岩镇", "本地已就业", None),
        ]:
            w = await add_worker(s, ident, name=name, village=village, township=township,
                                 status=status, phone=None if ident is None else f"1390000{len(ids):04d}",
                                 poverty=name == "王大山", return_date=date(2024, 2, 15)
                                 if status == "待返岗" else None, work_city="广东东莞"
                                 if status == "待返岗" else None)
            ids[name] = w.id
        s.add(checkin(ids["王小明"], 36.5))
        s.add(checkin(ids["李春花"], 38.2, ["发热", "咳嗽"], abnormal=True))
        # a correction: the earlier (abnormal) reading is superseded by a normal one
        s.add(checkin(ids["王大山"], 37.8, ["发热"], abnormal=True, superseded=True))
        s.add(checkin(ids["王大山"], 36.6))
    return ids


async def test_help_lists_only_what_each_role_may_use(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await people(bot)
        worker = await bot.ask("w1", "/帮助")
        assert "/名单" not in worker and "登记" in worker
        village = await bot.ask("vil", "/帮助")
        for cmd in ("/名单", "/查", "/登记", "/修改", "/广播", "/导出"):
            assert cmd in village
        assert "/企业" not in village and "/包车" not in village
        bureau = await bot.ask("bur", "/帮助")
        for cmd in ("/名单", "/查", "/导出", "/企业", "/包车"):
            assert cmd in bureau
        assert "/登记" not in bureau and "/广播" not in bureau and "/修改" not in bureau
        district = await bot.ask("dist", "/帮助")
        for cmd in ("/名单", "/查", "/登记", "/修改", "/广播", "/导出", "/企业", "/包车"):
            assert cmd in district


async def test_worker_typing_a_staff_command_is_told_politely(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await people(bot)
        for text in ("/名单 异常", "/list 异常", "/查 王大山", "/导出", "/广播 你好", "/包车", "/企业"):
            reply = await bot.ask("w1", text)
            assert "工作人员用的命令" in reply, (text, reply)
        # a bureau member asking for a survey command is told it is outside their role
        assert "不在您（区人社局/就业局）的权限内" in await bot.ask("bur", "/登记")
        assert "不在您（村/社区干部）的权限内" in await bot.ask("vil", "/包车")


async def test_village_cadre_sees_only_their_village_masked(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        ids = await people(bot)
        reply = await bot.ask("vil", "/名单 待就业")
        assert "【待就业】青岩镇歪脚村" in reply and "共 1 人" in reply
        assert "王*山" in reply and "王大山" not in reply and "139****0001" in reply
        assert "李*花" not in reply  # 龙井村
        reply = await bot.ask("vil", "/名单 未返岗")
        assert f"{ids['王小明']}. 王*明" in reply and "2月15日 去广东东莞" in reply
        # scope violations: another village, the whole township, another township
        for area in ("龙井村", "青岩镇", "孟关/高寨村"):
            reply = await bot.ask("vil", f"/名单 待就业 {area}")
            assert "不在您的范围（青岩镇歪脚村）内" in reply and "李*花" not in reply
        async with bot.app.db.session() as s:
            denied = (await s.execute(select(AuditLog).where(AuditLog.action == "denied"))).scalars().all()
        assert len(denied) == 3 and all(d.actor == "sim:vil" for d in denied)


async def test_township_and_district_scope_and_area_argument(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await people(bot)
        town = await bot.ask("town", "/名单 待就业")
        assert "青岩镇（" in town and "共 2 人" in town and "王*山" in town and "李*花" in town
        village = await bot.ask("town", "/名单 待就业 龙井村")
        assert "青岩镇龙井村" in village and "李*花" in village and "王*山" not in village
        assert "不在您的范围（青岩镇）内" in await bot.ask("town", "/名单 待就业 孟关")
        district = await bot.ask("dist", "/名单 待就业")
        assert "全区" in district and "共 2 人" in district
        # a village name alone is found among registered workers; 乡镇/村 also works
        assert "青岩镇龙井村" in await bot.ask("dist", "/名单 待就业 龙井村")
        assert "孟关苗族布依族乡高寨村" in await bot.ask("dist", "/名单 未返岗 孟关/高寨村")
        assert "还没有“火星村”的登记人员" in await bot.ask("dist", "/名单 待就业 火星村")
        other = await bot.ask("vil2", "/名单 待就业")
        assert "孟关苗族布依族乡高寨村" in other and "没有" in other


async def test_checkins_today_unchecked_and_abnormal(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        ids = await people(bot)
        unchecked = await bot.ask("town", "/名单 未打卡")
        # 王小明 and 王大山 (corrected) and 李春花 checked in; 刘冬梅 did not and has no chat
        assert "共 1 人" in unchecked and "刘*梅" in unchecked and "无手机" in unchecked
        assert "未绑定微信/QQ" in unchecked
        abnormal = await bot.ask("town", "/名单 异常")
        assert "共 1 人" in abnormal and "李*花" in abnormal and "38.2℃" in abnormal
        assert "发热、咳嗽" in abnormal and "王*山" not in abnormal  # superseded reading ignored
        assert "没有" in await bot.ask("vil", "/名单 异常")
        # tomorrow nobody has checked in yet
        await bot.feed({"clock": "2024-02-04T07:00"})
        tomorrow = await bot.ask("town", "/名单 未打卡")
        assert "2月4日" in tomorrow and "共 4 人" in tomorrow
        assert ids


async def test_bureau_sees_employment_lists_but_not_health(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await people(bot)
        for category in ("未打卡", "异常"):
            reply = await bot.ask("bur", f"/名单 {category}")
            assert "涉及健康信息" in reply and "*" not in reply
        usage = await bot.ask("bur", "/名单")
        assert "待就业" in usage and "异常" not in usage
        assert "共 2 人" in await bot.ask("bur", "/名单 待就业")
        assert "王*山" in await bot.ask("bur", "/名单 贫困劳动力")


async def test_zero_employment_households_and_public_welfare(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        ids = await people(bot)
        async with bot.app.db.session() as s:
            # 王大山's son is employed locally: their household is no longer 零就业
            await add_worker(s, None, name="王小虎", head="王大山", relation="子女", status="本地已就业")
            v = Vacancy(employer="青岩镇政府", title="保洁员", area="县内", public_welfare=True,
                        created_at=AT, updated_at=AT)
            s.add(v)
            await s.flush()
            s.add(Application(vacancy_id=v.id, worker_id=ids["李春花"], status="hired",
                              created_at=AT, updated_at=AT))
        households = await bot.ask("town", "/名单 零就业户")
        assert "户主李*花 龙井村" in households and "户主王*山" not in households
        assert "共 1 户" in households
        welfare = await bot.ask("town", "/名单 公益岗")
        assert "李*花" in welfare and "青岩镇政府保洁员" in welfare and "共 1 人" in welfare


async def test_lists_are_paged_and_next_page_continues(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        async with bot.app.db.session() as s:
            for i in range(45):
                await add_worker(s, None, name=f"陈{'甲乙丙丁戊己庚辛壬癸'[i % 10]}{i:02d}",
                                 status="暂无岗位")
        first = await bot.ask("vil", "/名单 待就业")
        assert "共 45 人，第 1/3 页" in first and first.count("陈") == 20 and "下一页" in first
        second = await bot.ask("vil", "下一页")
        assert "第 2/3 页" in second and second.count("陈") == 20
        third = await bot.ask("vil", "/名单 下一页")
        assert "第 3/3 页" in third and third.count("陈") == 5 and "下一页" not in third
        assert "一共只有 3 页" in await bot.ask("vil", "/名单 待就业 9")
        assert "第 2/3 页" in await bot.ask("vil", "/名单 待就业 2")
        # a worker's “下一页” is not taken by the list reader
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:w9", name="吴九")
        assert "陈" not in await bot.ask("w9", "下一页")
        async with bot.app.db.session() as s:
            audits = (await s.execute(select(AuditLog).where(AuditLog.action == "list"))).scalars().all()
        assert len(audits) == 5 and all(a.actor == "sim:vil" for a in audits)


async def test_lists_are_refused_in_a_group(settings):
    async with BotDriver(settings) as bot:
        await staff(bot)
        await people(bot)
        for who in ("vil", "town", "dist", "bur"):
            out = await bot.say(who, "/名单 待就业", chat="group:g1")
            assert len(out) == 1 and out[0]["chat"] == "group:g1"
            assert "请私聊我使用" in out[0]["text"] and "*" not in out[0]["text"]
        # without an @ the bot stays quiet in a group
        assert await bot.say("vil", "/名单 待就业", chat="group:g1", mention=False) == []
