"""Whole registration conversations through the replay pipeline, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models.tables import DialogState, Household, Worker
from tests.harness import BotDriver
from tests.ids import make_id, wrong_checksum

ID_U1 = make_id(birth="19900101", seq="123")  # odd 17th digit: 男
ID_U2 = make_id(birth="19851230", seq="224")  # even: 女

# The answers of a worker without a job, in order; "…" marks where branches start.
BASE = [
    ("登记", "同意"),
    ("同意", "姓名"),
    ("王小明", "身份证"),
    (ID_U1, "手机号"),
    ("138 1234 5678", "乡镇"),
    ("青岩", "村"),
    ("歪脚村", "组"),
    ("3组", "户主"),
    ("本人", "哪类人员"),
    ("1", "身体状况"),
    ("健康", "不舒服"),
    ("没有", "困难"),
    ("没有", "技能"),
    ("电焊", "工作"),
    ("在东莞电子厂做过3年普工", "就业情况"),
]


async def answer_all(bot: BotDriver, user: str, steps: list[tuple[str, str]]) -> str:
    """Answer each question, checking that the next question is the expected one."""
    reply = ""
    for text, expected in steps:
        reply = await bot.ask(user, text)
        assert expected in reply, f"after {text!r} expected {expected!r} in:\n{reply}"
    return reply


async def workers(bot: BotDriver) -> list[Worker]:
    async with bot.app.db.session() as s:
        return list((await s.execute(select(Worker).order_by(Worker.id))).scalars())


async def test_jobless_branch_registers_with_derived_fields(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE)
        summary = await answer_all(bot, "u1", [
            ("4", "打算"),
            ("就近就业", "什么工作"),
            ("普工", "哪里工作"),
            ("花溪区内", "月薪"),
            ("三千到五千", "请核对"),
        ])
        assert "5201**********" in summary and ID_U1 not in summary
        assert "138****5678" in summary
        assert "3000–5000元" in summary
        done = await bot.ask("u1", "确认")
        assert "登记成功" in done
        [w] = await workers(bot)
        assert (w.name, w.gender, w.birth_date) == ("王小明", "男", date(1990, 1, 1))
        assert (w.township, w.village, w.group_name) == ("青岩镇", "歪脚村", "3组")
        assert w.poverty and not w.relocated
        assert (w.status, w.intent, w.wanted_job) == ("暂无岗位", "就近就业", "普工")
        assert (w.salary_min, w.salary_max) == (3000, 5000)
        assert w.phone == "13812345678" and w.relation == "本人"
        assert "已登记" not in done
        info = await bot.ask("u1", "我的信息")
        assert "王小明" in info and "138****5678" in info and ID_U1 not in info


async def test_waiting_branch_with_relative_date_and_city(settings):
    async with BotDriver(settings, start="2024-02-03T09:00") as bot:  # a Saturday
        await answer_all(bot, "u1", BASE)
        await answer_all(bot, "u1", [
            ("1", "在哪里工作"),
            ("省外", "哪个城市"),
            ("广东东莞", "单位"),
            ("东莞某某电子厂", "哪天返岗"),
            ("下周一", "怎么去"),
            ("包车", "请核对"),
        ])
        assert "登记成功" in await bot.ask("u1", "确认")
        [w] = await workers(bot)
        assert w.status == "待返岗" and w.work_area == "省外" and w.work_city == "广东东莞"
        assert w.return_date == date(2024, 2, 5) and w.return_mode == "包车点对点"
        assert w.intent is None and w.wanted_job is None


@pytest.mark.parametrize("status, area", [("2", "2"), ("3", "1")])
async def test_returned_and_local_branches(settings, status, area):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE)
        steps = [(status, "在哪里工作"), (area, "哪个城市" if area == "2" else "单位")]
        if area == "2":
            steps.append(("贵阳", "单位"))
        steps.append(("花溪某某厂", "请核对"))
        summary = await answer_all(bot, "u1", steps)
        assert "返岗时间" not in summary
        assert "登记成功" in await bot.ask("u1", "确认")
        [w] = await workers(bot)
        assert w.status == ("已返岗" if status == "2" else "本地已就业")
        assert w.employer == "花溪某某厂"


async def test_household_member_is_asked_the_relation(settings):
    async with BotDriver(settings) as bot:
        steps = [s if s[0] != "本人" else ("王大山", "关系") for s in BASE[:9]]
        await answer_all(bot, "u1", steps)
        assert "哪类人员" in await bot.ask("u1", "儿子")
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
        assert state.answers["relation"] == "子女" and state.answers["head_name"] == "王大山"


async def test_bad_answers_get_specific_reprompts_and_keep_earlier_answers(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:3])
        bad = [
            (wrong_checksum(ID_U1), "校验"),
            ("52011119900230123X", "日期"),
            ("5201111990", "位"),
            ("", "文字"),
            ("x" * 5000, "太长"),
        ]
        for text, hint in bad:
            reply = await bot.ask("u1", text)
            assert hint in reply, f"{text[:30]!r}: {reply}"
        media = await bot.ask("u1", "", media=True)
        assert "文字" in media and "身份证" in media
        assert "手机号" in await bot.ask("u1", ID_U1.lower())
        assert "位" in await bot.ask("u1", "138123456")
        assert "乡镇" in await bot.ask("u1", "+86 138-1234-5678")
        unknown = await bot.ask("u1", "火星镇")
        assert "青岩镇" in unknown  # the list to choose from
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
        assert state.step == "township"
        assert state.answers["name"] == "王小明"
        assert state.answers["id_number"] == ID_U1
        assert state.answers["phone"] == "13812345678"


@pytest.mark.parametrize("name", ["[CQ:at,qq=all]", "'; DROP TABLE worker;--", "<b>王</b>", "王"])
async def test_markup_sql_and_one_character_names_are_refused(settings, name):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:2])
        reply = await bot.ask("u1", name)
        assert "姓名" in reply or "名字" in reply
        assert "身份证" not in reply
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
        assert state.step == "name"


async def test_back_skip_and_keep(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:5])
        assert "手机号" in await bot.ask("u1", "返回")
        again = await bot.ask("u1", "返回")
        assert "身份证" in again and "5201" in again  # shows what was entered, masked
        assert "手机号" in await bot.ask("u1", "不变")
        assert "乡镇" in await bot.ask("u1", "13812345678")
        assert "不能跳过" in await bot.ask("u1", "跳过")
        await answer_all(bot, "u1", [("孟关", "村"), ("石龙村", "组")])
        assert "户主" in await bot.ask("u1", "跳过")
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
        assert state.answers["township"] == "孟关苗族布依族乡"
        assert state.answers["group"] is None


async def test_edit_from_summary_changes_branch(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE)
        summary = await answer_all(bot, "u1", [
            ("4", "打算"), ("暂不就业", "请核对"),
        ])
        fields = [line for line in summary.splitlines() if line[:1].isdigit()]
        number = next(line.split(".")[0] for line in fields if "就业状态" in line)
        assert "就业情况" in await bot.ask("u1", f"修改 {number}")
        assert "在哪里工作" in await bot.ask("u1", "已经返岗")
        await answer_all(bot, "u1", [("1", "单位"), ("花溪某某厂", "请核对")])
        name_no = next(line.split(".")[0] for line in fields if "姓名" in line)
        assert "姓名" in await bot.ask("u1", f"改{name_no}")
        final = await bot.ask("u1", "王晓明")
        assert "请核对" in final and "王晓明" in final and "就业意愿" not in final
        assert "没有第 99 项" in await bot.ask("u1", "修改 99")
        assert "登记成功" in await bot.ask("u1", "确认")
        [w] = await workers(bot)
        assert (w.name, w.status, w.intent) == ("王晓明", "已返岗", None)


async def test_restart_in_the_middle_resumes_at_the_same_question(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:6])  # next: 村
        await bot.restart()
        again = await bot.ask("u1", "继续")
        assert "村" in again and "（第6题）" in again
        assert "组" in await bot.ask("u1", "歪脚村")
        await bot.restart()
        await answer_all(bot, "u1", BASE[7:])
        await answer_all(bot, "u1", [("4", "打算"), ("暂不就业", "请核对")])
        assert "登记成功" in await bot.ask("u1", "确认")


async def test_duplicate_delivery_is_handled_once(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:2])
        first = await bot.say("u1", "王小明", id="m-42")
        assert first and "身份证" in first[0]["text"]
        assert await bot.say("u1", "王小明", id="m-42") == []
        await bot.restart()
        assert await bot.say("u1", "王小明", id="m-42") == []
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
        assert state.step == "id_number" and state.history.count("name") == 1


async def test_group_messages_never_touch_the_dialog_or_show_personal_data(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:4])
        out = await bot.say("u1", "@返岗通 我登记到哪了", chat="group:g1")
        assert [o["chat"] for o in out] == ["group:g1"]
        assert "私聊" in out[0]["text"] and ID_U1 not in out[0]["text"]
        assert out[0].get("at") == ["u1"]
        assert "乡镇" in await bot.ask("u1", "13812345678")


async def test_cancel_then_continue_keeps_everything(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:4])
        assert "保留" in await bot.ask("u1", "取消")
        assert "继续" in await bot.ask("u1", "今天天气怎么样")
        resumed = await bot.ask("u1", "继续")
        assert "手机号" in resumed
        restart = await bot.ask("u1", "重新登记")
        assert "同意" in restart


async def test_refusing_consent_ends_the_dialog(settings):
    async with BotDriver(settings) as bot:
        assert "同意" in await bot.ask("u1", "你好")
        assert "不登记也没关系" in await bot.ask("u1", "不同意")
        async with bot.app.db.session() as s:
            assert await s.get(DialogState, "sim:u1") is None


async def test_second_registration_updates_by_id_or_phone(settings):
    async with BotDriver(settings) as bot:
        tail = [("4", "打算"), ("暂不就业", "请核对")]
        await answer_all(bot, "u1", BASE + tail)
        assert "登记成功" in await bot.ask("u1", "确认")
        # the same person from another account, same phone, a corrected ID number
        steps = [(ID_U2, "手机号") if s[0] == ID_U1 else s for s in BASE]
        await answer_all(bot, "u9", steps + tail)
        assert "已更新" in await bot.ask("u9", "确认")
        [w] = await workers(bot)
        assert w.id_number == ID_U2 and w.gender == "女"
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Household)) == 1


async def test_help_in_the_middle_and_unknown_command(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:3])
        helped = await bot.ask("u1", "帮助")
        assert "返回" in helped and "18位" in helped
        assert "没有“/乱码”这个命令" in await bot.ask("u1", "/乱码")
        assert "身份证" in await bot.ask("u1", "继续")


async def test_emoji_ten_digit_phone_and_unknown_township(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:2])
        emoji = await bot.ask("u1", "😀😀")
        assert "姓名" in emoji or "名字" in emoji
        await answer_all(bot, "u1", BASE[2:4])
        ten = await bot.ask("u1", "1381234567")
        assert "10" in ten and "11" in ten  # says how many were typed and how many are wanted
        assert "乡镇" in await bot.ask("u1", "13812345678")
        unknown = await bot.ask("u1", "北京市")
        assert "青岩镇" in unknown and "村" not in unknown.splitlines()[0]
        assert "村" in await bot.ask("u1", "3")  # a number from the list works


async def test_relative_dates_use_the_district_time_zone(settings):
    # 23:30 in Beijing is still the previous day in UTC: 明天 is the 4th of February here
    async with BotDriver(settings, start="2024-02-03T23:30") as bot:
        await answer_all(bot, "u1", BASE)
        await answer_all(bot, "u1", [("1", "在哪里工作"), ("县内", "单位"), ("某厂", "哪天"),
                                     ("明天", "怎么去"), ("自驾", "请核对")])
        await bot.ask("u1", "确认")
        [w] = await workers(bot)
        assert w.return_date == date(2024, 2, 4)


async def test_family_members_sharing_a_phone_are_two_workers(settings):
    async with BotDriver(settings) as bot:
        tail = [("4", "打算"), ("暂不就业", "请核对")]
        await answer_all(bot, "u1", BASE + tail)
        assert "登记成功" in await bot.ask("u1", "确认")
        wife = [("李小花", "身份证") if s[0] == "王小明" else
                (ID_U2, "手机号") if s[0] == ID_U1 else
                ("王小明", "关系") if s[0] == "本人" else s for s in BASE]
        await answer_all(bot, "u2", wife[:9])
        await answer_all(bot, "u2", [("老婆", "哪类人员"), *wife[9:], *tail])
        assert "登记成功" in await bot.ask("u2", "确认")
        names = sorted(w.name for w in await workers(bot))
        assert names == ["李小花", "王小明"]
        async with bot.app.db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Household)) == 1


async def test_a_difficulty_that_starts_with_no_is_kept(settings):
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:12])
        assert "技能" in await bot.ask("u1", "没有劳动力，老人生病")
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
        assert state.answers["difficulty"] == "没有劳动力，老人生病"  # punctuation as typed


async def test_a_bare_yes_at_any_free_text_question_is_asked_again(settings):
    """“好的”/“确认” typed at a free-text question (skills, a vacancy's employer, a complaint's
    employer) is never stored as the answer: the question is asked again with a hint."""
    async with BotDriver(settings) as bot:
        await answer_all(bot, "u1", BASE[:13])  # now at the skills question
        again = await bot.ask("u1", "好的")
        assert "具体的内容" in again and "工作" not in again
        assert "工作" in await bot.ask("u1", "电焊")
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u1")
        assert state.answers["skills"] == "电焊"
        assert "单位" in await bot.ask("u2", "投诉")
        again = await bot.ask("u2", "确认")
        assert "请写用人单位的名称" in again
        await bot.ask("u2", "花溪某电子厂")
        async with bot.app.db.session() as s:
            state = await s.get(DialogState, "sim:u2")
        assert state.answers.get("employer") == "花溪某电子厂"


async def test_answers_typed_one_question_early_are_refused_not_stored(settings):
    """A salary typed at the job question, or "确认" at the place question, is asked again with
    a hint instead of being stored as the answer; "是" to the head question means oneself."""
    async with BotDriver(settings) as bot:
        steps = [s if s[0] != "本人" else ("是", "哪类人员") for s in BASE]
        await answer_all(bot, "u1", steps)
        await answer_all(bot, "u1", [("4", "打算"), ("就近就业", "什么工作")])
        again = await bot.ask("u1", "4000")
        assert "月薪在后面一题填" in again and "哪里工作" not in again
        assert "哪里工作" in await bot.ask("u1", "电焊")
        again = await bot.ask("u1", "确认")
        assert "希望在哪里工作" in again and "月薪" not in again
        assert "月薪" in await bot.ask("u1", "不限")
        summary = await bot.ask("u1", "4000")
        assert "期望工种：电焊" in summary and "期望地点：不限" in summary
        assert "户主姓名：本人" in summary
