"""Bad input everywhere: random conversations through every dialog, and every parser on junk.

Part 1 — parsers.  Every question's parser of every dialog in ``dialogs.catalog.all_dialogs()``
(so a dialog a feature adds later is covered without touching this file), the check-in reply
reader, the slash-command splitter and the masks get arbitrary text and junk: each returns a
value (JSON-able, readable in the summary) or raises ``ParseError`` with a Chinese hint.

Part 2 — conversations.  Hypothesis writes a conversation for each dialog: valid answers to the
question being asked (looked up from the dialog state as it goes), mixed with the control words
(返回 跳过 取消 继续 帮助 修改 N 确认 重新开始…), junk (emoji, markup, CQ codes, SQL, 5,000-char
pastes, empty and media-only messages), other keywords (注销 included) and slash commands.
Each is sent through the whole pipeline (``tests.harness.BotDriver``, the replay's path).  After
every message:

* the sender got at least one reply, in their private chat;
* every message the bot sent (to anyone) is non-empty and has Chinese in it;
* none shows a Python leak — "Traceback", "Error", "None", "True", a list's ``['`` … — unless the
  person typed that very text; none is the router's "something went wrong" apology, and nothing
  was logged at ERROR (no exception escaped a handler);
* no ID number or phone number given as an answer (or of a worker on file) appears in full;
* the dialog state in the database loads, names a known dialog and question, is JSON, and its
  question or summary can be asked again.

``FUZZ_SCALE=10`` runs ten times as many conversations.

Backend: SQLite only, a fresh database file per example (booting one takes ~40 ms).  The same
pipeline runs on PostgreSQL in the other tests; here the random sequences, not the backend, are
the point, and a database per example on PostgreSQL would make this minutes instead of seconds.
Each example runs its own event loop (``asyncio.run``) inside a plain synchronous test, so the
bot, its database and its loop live exactly as long as one example.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, reject, settings
from hypothesis import strategies as st

from bot.config import Settings
from dialogs.catalog import all_dialogs
from dialogs.checkin_text import SYMPTOMS, parse_checkin
from dialogs.engine import CONFIRM, MAX_INPUT, Dialog, DialogEngine, ParseEnv, Step
from dialogs.parsing.errors import ParseError
from dialogs.parsing.idcard import mask_id
from dialogs.parsing.phone import mask_phone
from dialogs.parsing.places import TownshipDirectory
from dialogs.parsing.textnorm import has_han, normalize
from handlers.commands import parse_command
from handlers.router import SORRY
from models.tables import DialogState
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver
from tests.ids import make_id, wrong_checksum

DIALOGS: dict[str, Dialog] = {d.name: d for d in all_dialogs()}
FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
# FUZZ_SCALE=10 runs ten times as many conversations (for a long run before a release).
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))
# A conversation costs ~10 ms a message: no shrinking (minutes); the failure prints the
# transcript of the failing conversation instead.
CONVERSATION_SETTINGS = settings(
    FUZZ_SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])

# ----- text that people (and attackers) send -----------------------------------------------------
CONTROL_WORDS = ["返回", "跳过", "取消", "继续", "帮助", "确认", "重新开始", "不变", "修改", "？",
                 "上一题", "算了", "好的", "没有", "是"]
EMOJI = "😀😷🤒👍👌✅❌🙏🏻❤️🎉🧧\u200d\ufe0f"
MARKUP = [
    "[CQ:at,qq=all]", "&#91;CQ:at,qq=all&#93;", "[CQ:image,file=http://x/a.png]", "@全体成员",
    "@所有人 明天开会", "<script>alert(1)</script>", "<b>王小明</b>", "<img src=x onerror=alert(1)>",
    "{{7*7}}", "${jndi:ldap://x/a}", "[url=http://x]点我[/url]", "javascript:alert(1)",
    "%s%s%s%n", "{0.__class__}", "\\x00\\u0000", "王\x00小明", "\u202e明小王", "\r\n\r\n",
]
SQL = [
    "'; DROP TABLE worker; --", "1' OR '1'='1", "王小明'); DELETE FROM worker; --",
    "\" OR \"\"=\"", "1; SELECT pg_sleep(5)", "admin'--", "' UNION SELECT id_number FROM worker --",
]
PYTHONISH = ["None", "True", "False", "['a', 'b']", "{'k': 1}", "Traceback", "Error", "nan", "inf",
             "-1", "0", "1e309", "99999999999999999999"]
KEYWORDS = ["登记", "关联", "我的信息", "注销", "确认注销", "下一页", "报名包车 1", "取消包车 1",
            "找工作", "你好", "继续登记", "重新登记", "36.5 正常", "打卡", "报名 1", "我的报名",
            "找培训", "培训报名 1", "我的培训", "取消培训 1"]
SLASH = [
    "/帮助", "/名单", "/名单 异常", "/名单 未返岗 青岩镇", "/查 王小明", "/查 5678", "/查 编号1",
    "/登记", "/修改 1", "/修改 999", "/企业", "/包车", "/包车 列表", "/包车 1", "/导出",
    "/培训", "/培训名单 1", "/培训结业 1 全部",
    "/广播 明天开会", "/绑定 ABCDEFGH", "/不存在", "/", "／查", "/查 '; DROP TABLE worker; --",
    "/名单 [CQ:at,qq=all]", "/help", "/ 帮助", "/查 " + "啊" * 300,
]
# Looks like an ID number or phone but is not one (a real one only goes where it is asked for).
NEAR_MISSES = [wrong_checksum(make_id()), "52011119900101123", "1381234567", "139876543210",
               "12345678901", "010-12345678", "+86 12812345678"]


def _paste(unit: str, size: int) -> str:
    return (unit * (size // max(1, len(unit)) + 1))[:size]


pastes = st.builds(_paste, st.sampled_from(["啊", "测试", "a", "😀", "我叫王小明", "[CQ:at,qq=all]"]),
                   st.sampled_from([MAX_INPUT + 1, 1000, 5000]))
junk = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=EMOJI, min_size=1, max_size=8),
    st.sampled_from(MARKUP + SQL + PYTHONISH + NEAR_MISSES),
    st.sampled_from(["", " ", "\n\t", "\u200b", "\u3000", "。", "...", "？？？"]),
    pastes,
)
control = st.one_of(
    st.sampled_from(CONTROL_WORDS),
    st.builds(lambda w, n: f"{w}{n}", st.sampled_from(["修改", "修改 ", "改第", "修改第", "改"]),
              st.sampled_from(["1", "3", "0", "99", "三", "十二", "２", "-1", "1项"])),
)

# ----- valid answers, by question ------------------------------------------------------------------
ID_A = make_id(birth="19900101", seq="123")
ID_B = make_id(birth="19851230", seq="224")
ID_ON_FILE = make_id(birth="19780615", seq="311")
PHONE_A, PHONE_B, PHONE_ON_FILE = "13612348888", "15900001234", "13700007777"
SECRET_IDS = (ID_A, ID_B, ID_ON_FILE)
SECRET_PHONES = (PHONE_A, PHONE_B, PHONE_ON_FILE)

VALID: dict[str, list[str]] = {
    "consent": ["同意", "好", "可以", "1"],
    "name": ["王小明", "李四", "张三丰", "阿依古丽"],
    "id_number": [ID_A, ID_B, f"{ID_A[:6]} {ID_A[6:14]} {ID_A[14:]}"],
    "phone": ["136 1234 8888", PHONE_B, "+86 13612348888"],
    "township": ["青岩", "青岩镇", "孟关", "贵筑街道", "1"],
    "village": ["歪脚村", "龙井村", "大寨社区"],
    "group": ["3组", "第一组", "跳过"],
    "head_name": ["本人", "王大山", "我"],
    "relation": ["1", "配偶", "儿子", "父母"],
    "category": ["1", "1 2", "其他", "建档立卡和易地搬迁"],
    "health": ["健康", "1", "慢性病"],
    "symptoms": ["没有", "1", "发烧 咳嗽", "嗓子疼"],
    "difficulty": ["没有", "家里有老人需要照顾"],
    "skills": ["电焊", "驾驶证C1", "跳过"],
    "experience": ["在东莞电子厂做过3年普工", "跳过"],
    "status": ["1", "2", "3", "4", "暂无岗位", "已返岗"],
    "work_area": ["1", "2", "3", "省外"],
    "work_city": ["广东东莞", "浙江宁波"],
    "employer": ["某电子厂", "贵阳某某食品有限公司"],
    "return_date": ["明天", "下周一", "2月15日"],
    "return_mode": ["包车", "1", "自驾", "火车"],
    "intent": ["就近就业", "1", "2", "3"],
    "wanted_job": ["普工", "保洁"],
    "wanted_place": ["花溪区内", "广东"],
    "wanted_salary": ["三千到五千", "面议", "4000", "跳过"],
    # link_account (the worker on file)
    "link_account.id_number": [ID_ON_FILE],
    "link_account.phone": [PHONE_ON_FILE],
    # enterprise_report
    "enterprise_report.name": ["贵阳某某食品有限公司", "青岩豆腐坊"],
    "resumed_on": ["2月10日", "跳过", "明天"],
    "staff_registered": ["100", "一百二十", "50人"],
    "staff_returned": ["0", "10", "二十"],
    "shortage": ["0", "20", "不缺"],
    "jobs_wanted": ["普工20人、电焊工5人", "跳过"],
    # bus_charter
    "destination": ["广东东莞", "浙江宁波"],
    "day": ["明天", "2月15日", "下周一"],
    "seats": ["40", "四十五", "1"],
    "meeting_point": ["青岩镇政府门口 早上7点"],
    "escort": ["张三 13800001111", "跳过"],
    # training_post
    "trade": ["电焊", "叉车培训"],
    "training_post.place": ["花溪区职业技术学校"],
    "dates": ["3月1日到3月10日", "明天", "下周一开始，共5天"],
    "subsidy": ["免费培训，结业补贴1500元", "无"],
    "training_post.contact": ["王老师 0851-83851234", "跳过"],
    # departure_declaration
    "temperature": ["36.5", "三十六度八", "没量", "37.6"],
    "departure_declaration.symptoms": ["没有", "有点咳嗽", "前几天发烧 现在好了"],
    "contact": ["没有", "有", "无"],
    "travel_mode": ["火车", "1", "包车"],
}
GENERIC_VALID = ["普工", "10", "明天", "青岩镇", "跳过", "1", "是", "某电子厂"]


def valid_texts(dialog: Dialog, step_key: str, answers: dict[str, Any]) -> list[str]:
    """Answers that should be taken at this question (any, if the dialog is new to us)."""
    if step_key == CONFIRM:
        n = len(dialog.summary_steps(answers))
        return ["确认", "确认", "确定", f"修改 {max(1, n // 2)}", f"修改{n}"]
    found = VALID.get(f"{dialog.name}.{step_key}") or VALID.get(step_key)
    if found:
        return found
    step = dialog.step(step_key)
    if step.options:
        return [step.options[0].label, "1", *(o.label for o in step.options[1:3])]
    return GENERIC_VALID


# ----- part 1: every parser ------------------------------------------------------------------------
LEAKS = ("Traceback", "Error", "Exception", "None", "True", "False", "['", "{'", "object at 0x",
         "<class", "sqlalchemy", "asyncpg", "sqlite3")


def leaks(reply: str, typed: str) -> list[str]:
    """Python-looking words in a reply that the person did not type themselves."""
    return [w for w in LEAKS if w in reply and w not in typed and w not in normalize(typed)]


class NeedsDatabase(Exception):
    """A parser looked something up in the database: tried in the conversations instead."""


class _NoSession:
    def __getattr__(self, name: str) -> Any:
        raise NeedsDatabase(name)


def _fake_ctx() -> Any:
    from bot.config import DEFAULT_TOWNSHIPS_CSV

    services = SimpleNamespace(townships=TownshipDirectory.from_csv(DEFAULT_TOWNSHIPS_CSV))
    return SimpleNamespace(services=services, session=_NoSession(), inbound=None)


FAKE_CTX = _fake_ctx()
STEPS: list[tuple[Dialog, Step]] = [(d, s) for d in DIALOGS.values() for s in d.steps]
SOME_ANSWERS = [
    {},
    {"name": "王小明", "staff_registered": 10, "status": "待返岗", "head_name": "本人",
     "_scope": {"township": "青岩镇", "village": "歪脚村"}},
    {"name": "李四", "staff_registered": 0, "_scope": {"township": None, "village": None}},
]
any_text = st.one_of(junk, control, st.sampled_from([t for ts in VALID.values() for t in ts]),
                     st.sampled_from(KEYWORDS + SLASH))


@settings(FUZZ_SETTINGS, max_examples=1500)
@given(st.sampled_from(STEPS), any_text, st.sampled_from(SOME_ANSWERS),
       st.dates(date(2024, 1, 1), date(2025, 12, 31)))
def test_every_question_parser_answers_or_asks_again(
    dialog_step: tuple[Dialog, Step], text: str, answers: dict, today: date
) -> None:
    dialog, step = dialog_step
    env = ParseEnv(today=today, answers=dict(answers), ctx=FAKE_CTX)
    try:
        value = step.understand(text, env)
    except NeedsDatabase:
        reject()
    except ParseError as err:
        assert err.hint and has_han(err.hint), (dialog.name, step.key, text)
        assert not leaks(err.hint, text), (dialog.name, step.key, text, err.hint)
        return
    json.dumps(value, ensure_ascii=False)  # stored in the dialog state as JSON
    if not step.in_summary:
        return  # never shown (the consent's yes/no)
    shown = step.render(value)
    assert isinstance(shown, str) and shown, (dialog.name, step.key, text)
    assert not leaks(shown, text), (dialog.name, step.key, text, shown)
    if step.key == "id_number":
        assert value not in shown  # masked in the summary
    if step.key == "phone" and isinstance(value, str) and len(value) == 11:
        assert value not in shown


@settings(FUZZ_SETTINGS, max_examples=200)
@given(st.one_of(junk, control, st.sampled_from(KEYWORDS)),
       st.sampled_from(["", "36.5 ", "体温37.5 ", "没有发烧 ", "咳嗽"]))
def test_checkin_reply_reader_on_junk(text: str, prefix: str) -> None:
    """dialogs.checkin_text on junk: a reading or a Chinese hint, and fast on a 5,000-char paste."""
    started = time.perf_counter()
    try:
        reading = parse_checkin(prefix + text)
    except ParseError as err:
        assert err.hint and has_han(err.hint) and not leaks(err.hint, text)
    else:
        assert set(reading.symptoms) <= set(SYMPTOMS)
        assert reading.temperature is None or 34.0 <= reading.temperature <= 42.5
        described = reading.describe()
        assert described and has_han(described) and not leaks(described, text)
    assert time.perf_counter() - started < 2.0


def test_checkin_reply_reader_on_non_text() -> None:
    for value in (None, 36.5, b"36.5", ["36.5"]):
        with pytest.raises(ParseError):
            parse_checkin(value)  # type: ignore[arg-type]


@FUZZ_SETTINGS
@given(st.one_of(junk, st.sampled_from(SLASH), st.text(alphabet="/／ 查名单帮助\n\t", max_size=12)))
def test_slash_command_splitter_on_junk(text: str) -> None:
    parsed = parse_command(normalize(text))
    if parsed is not None:
        name, args = parsed
        assert name and not name[0].isspace() and args == args.strip()


@given(st.text(max_size=40))
def test_masks_never_show_the_middle(text: str) -> None:
    assume("*" not in text)
    masked_id, masked_phone = mask_id(text), mask_phone(text)
    stripped = text.strip()
    if len(stripped) >= 9:
        assert stripped.upper() not in masked_id
        assert sum(c != "*" for c in masked_id) == 8
    if len(stripped) >= 8:
        assert stripped not in masked_phone
        assert sum(c != "*" for c in masked_phone) == 7


# ----- part 2: whole conversations -------------------------------------------------------------------
DRIVER_OF = {"registration": "u1", "link_account": "u1"}  # the rest are the cadre's
CADRE = "c1"
KNOWN_STARTS = {
    "registration": "登记",
    "link_account": "关联",
    "registration_by_cadre": "/登记",
    "enterprise_report": "/企业",
    "bus_charter": "/包车",
    "training_post": "/发布培训",
}
_discovered: dict[str, str] = {}


@dataclass
class Transcript:
    """What one example sent and saw, for the assertions and for the failure report."""

    typed: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def add(self, who: str, text: str, outputs: list[dict]) -> None:
        self.typed.append(text)
        self.lines.append(f">>> {who}: {text[:120]!r}")
        self.lines += [f"<<< {o.get('to') or o.get('chat')}: {o.get('text', '')[:300]!r}"
                       for o in outputs]

    def __str__(self) -> str:
        return "\n".join(self.lines[-40:])


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _settings(folder: str) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{folder}/bot.db", simulator=False)


async def _seed(bot: BotDriver) -> None:
    """A district cadre, a worker on file (for 关联 and the cadre's commands), a bus."""
    from models.tables import Bus
    from tests.factories import NOW

    async with bot.app.db.session() as s:
        await add_cadre(s, f"sim:{CADRE}", "district", name="周主任")
        await add_worker(s, "sim:u5", name="赵六", id_number=ID_ON_FILE, phone=PHONE_ON_FILE,
                         status="待返岗", return_date=date(2024, 2, 15), work_city="广东东莞")
        s.add(Bus(destination="广东东莞", day=date(2024, 2, 15), seats=2,
                  meeting_point="青岩镇政府", created_at=NOW))


async def _starter(name: str) -> str:
    """How a dialog is begun by its user: a known word or command, else found by trying every
    slash command as the cadre (for dialogs added later); "" if nothing starts it."""
    if name in KNOWN_STARTS:
        return KNOWN_STARTS[name]
    if not _discovered:
        from handlers.commands import COMMANDS

        with tempfile.TemporaryDirectory() as folder:
            async with BotDriver(_settings(folder)) as bot:
                await _seed(bot)
                for cmd in dict.fromkeys(COMMANDS.values()):
                    await bot.say(CADRE, "取消")
                    await bot.say(CADRE, f"/{cmd.name}")
                    async with bot.app.db.session() as s:
                        state = await s.get(DialogState, f"sim:{CADRE}")
                        if state is not None and not state.paused:
                            _discovered.setdefault(state.dialog, f"/{cmd.name}")
        _discovered.setdefault("", "")
    return _discovered.get(name, "")


async def _start_directly(bot: BotDriver, user: str, name: str) -> None:
    """A dialog nothing starts from chat: begun by the engine, as a cadre's."""
    from handlers.context import Context
    from handlers.permissions import cadre_of

    inbound = SimpleNamespace(identity=f"sim:{user}", account="sim")
    async with bot.app.db.session() as s:
        ctx = Context(bot.app.services, s, inbound)  # type: ignore[arg-type]
        cadre = await cadre_of(ctx)
        await bot.app.engine.start(ctx, ctx.identity, name,
                                   data={"cadre_id": cadre.id if cadre else None})


def check_state(engine: DialogEngine, state: DialogState) -> None:
    """A stored dialog state that the engine can carry on from."""
    assert state.dialog in engine.dialogs, state.dialog
    dialog = engine.dialogs[state.dialog]
    assert state.step == CONFIRM or state.step in {s.key for s in dialog.steps}, state.step
    assert all(k in {s.key for s in dialog.steps} for k in state.history), state.history
    json.dumps([state.answers, state.history, state.data], ensure_ascii=False)
    if state.step == CONFIRM:
        assert has_han(engine.summary(dialog, state.answers))
    else:
        assert has_han(dialog.step(state.step).question(state.answers))
    for step in dialog.steps:
        if step.key in state.answers:
            step.render(state.answers[step.key])


def check_outputs(outputs: list[dict], user: str, chat: str, typed: str, all_typed: str) -> None:
    if chat == "private":
        assert any(o.get("to") == user and o.get("chat") == "private" for o in outputs), \
            "no private reply to the sender"
    else:
        assert any(o.get("chat") == chat for o in outputs), "no reply in the group"
    for o in outputs:
        text = o.get("text", "")
        assert text.strip(), f"empty message: {o}"
        assert has_han(text), f"no Chinese: {text!r}"
        assert SORRY not in text, "a handler raised (the router apologised)"
        found = leaks(text, all_typed)
        assert not found, f"{found} in {text!r}"
        flat = re.sub(r"[\s-]", "", text)
        for secret in (*SECRET_IDS, *SECRET_PHONES):
            assert secret not in flat, f"full ID/phone {secret} in {text!r}"
        if o.get("chat", "").startswith("group:"):
            assert "王小明" not in text and "赵六" not in text, f"a name in a group: {text!r}"
        assert not o.get("at_all"), "@all without a command asking for it"


async def _conversation(data: st.DataObject, name: str, length: int) -> None:
    dialog = DIALOGS[name]
    user = DRIVER_OF.get(name, CADRE)
    identity = f"sim:{user}"
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    transcript = Transcript()
    start = await _starter(name)
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with BotDriver(_settings(folder)) as bot:
                await _seed(bot)
                engine = bot.app.engine
                progress = {"deepest": 0, "finished": False, "at_end": False}

                async def send(text: str, chat: str = "private", media: bool = False) -> None:
                    extra = {"media": True} if media else {}
                    outputs = await bot.say(user, text, chat=chat, **extra)
                    transcript.add(user + ("" if chat == "private" else f"@{chat}"), text, outputs)
                    check_outputs(outputs, user, chat, text, "\n".join(transcript.typed))
                    async with bot.app.db.session() as s:
                        state = await s.get(DialogState, identity)
                        if state is not None:
                            check_state(engine, state)
                    assert not errors.records, errors.records[0].getMessage()
                    # How far this conversation got (see --hypothesis-show-statistics).
                    if state is not None and state.dialog == name:
                        at = len(dialog.steps) if state.step == CONFIRM else \
                            dialog._index[state.step]
                        progress["deepest"] = max(progress["deepest"], at)
                    if progress["at_end"] and state is None and chat == "private":
                        progress["finished"] = True
                    progress["at_end"] = state is not None and state.dialog == name and (
                        state.step == CONFIRM or (not dialog.confirm and
                                                  state.step == dialog.steps[-1].key))

                if start:
                    await send(start)
                else:
                    await _start_directly(bot, user, name)
                # First some plain answers (so that conversations also start deep in the
                # dialog, at the summary or past it), then anything.
                ahead = data.draw(st.integers(0, len(dialog.steps) + 2), label="answers first")
                for i in range(ahead + length):
                    kind = "valid" if i < ahead else data.draw(st.sampled_from(
                        ["valid"] * 9 + ["control"] * 3 + ["junk"] * 4
                        + ["keyword", "slash", "media", "group"]), label="kind")
                    if kind == "valid":
                        async with bot.app.db.session() as s:
                            state = await s.get(DialogState, identity)
                        if state is None or state.paused:
                            text = "继续" if state is not None else (start or "继续")
                        else:
                            current = engine.dialogs[state.dialog]
                            text = data.draw(st.sampled_from(
                                valid_texts(current, state.step, state.answers)), label="valid")
                        await send(text)
                    elif kind == "control":
                        await send(data.draw(control, label="control"))
                    elif kind == "junk":
                        await send(data.draw(junk, label="junk"))
                    elif kind == "keyword":
                        await send(data.draw(st.sampled_from(KEYWORDS), label="keyword"))
                    elif kind == "slash":
                        await send(data.draw(st.sampled_from(SLASH), label="slash"))
                    elif kind == "media":
                        await send(data.draw(st.sampled_from(["", " ", "[图片]"]), label="media"),
                                   media=True)
                    else:
                        await send(data.draw(st.one_of(junk, st.sampled_from(SLASH + KEYWORDS)),
                                             label="group"), chat="group:g1")
        share = progress["deepest"] * 4 // len(dialog.steps)
        event(("reached the first quarter", "reached the second quarter", "reached the third quarter",
               "reached the last quarter", "reached the summary")[share])
        if progress["finished"]:
            event("finished the dialog")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- conversation ({name}) ---\n{transcript}") from None
    finally:
        logging.getLogger().removeHandler(errors)


def _run(data: st.DataObject, name: str, length: int) -> None:
    asyncio.run(_conversation(data, name, length))


@settings(CONVERSATION_SETTINGS, max_examples=40 * SCALE)
@given(st.data())
def test_registration_survives_any_conversation(data: st.DataObject) -> None:
    _run(data, "registration", data.draw(st.integers(3, 30), label="length"))


OTHER_DIALOGS = sorted(n for n in DIALOGS if n != "registration")


@pytest.mark.parametrize("name", OTHER_DIALOGS)
def test_other_dialogs_survive_any_conversation(name: str) -> None:
    @settings(CONVERSATION_SETTINGS, max_examples=10 * SCALE)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        _run(data, name, data.draw(st.integers(3, 16), label="length"))

    run()


def test_every_dialog_is_fuzzed() -> None:
    """A dialog added to the catalog is picked up here without editing this file."""
    assert set(DIALOGS) == {"registration", *OTHER_DIALOGS}
    assert {"registration", "link_account", "registration_by_cadre"} <= set(DIALOGS)


def test_a_complete_registration_reaches_the_summary_under_fuzz_rules() -> None:
    """The valid answers above really do carry a registration to its end (so the fuzz reaches
    the summary and 修改 N, not only the first questions)."""

    async def go() -> None:
        with tempfile.TemporaryDirectory() as folder:
            async with BotDriver(_settings(folder)) as bot:
                await _seed(bot)
                reply = await bot.ask("u1", "登记")
                for _ in range(40):
                    async with bot.app.db.session() as s:
                        state = await s.get(DialogState, "sim:u1")
                    if state is None:
                        break
                    dialog = bot.app.engine.dialogs[state.dialog]
                    reply = await bot.ask("u1", valid_texts(dialog, state.step, state.answers)[0])
                assert "登记成功" in reply, reply

    asyncio.run(go())
