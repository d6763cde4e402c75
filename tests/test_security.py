"""One test (at least) for each claim of docs/SECURITY.md, named there."""

from __future__ import annotations

import ast
import asyncio
import inspect
import io
import json
import logging
import re
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.config import ConfigError, Settings
from bot.logsafe import CHATTY, RedactingFilter, quiet_chatty_libraries, redact
from bot.messages import ChatRef, Outbound
from bot.transports import onebot_codec as codec
from bot.transports.factory import build_transports
from bot.transports.onebot import OneBotForwardTransport, OneBotReverseServer, parse_host_port
from handlers.commands import COMMANDS
from models.db import Database
from models.tables import AuditLog, Worker
from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver
from tests.ids import make_id
from tests.onebot_standin import OneBotStandIn

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("bot", "handlers", "dialogs", "models", "scheduler")
TOKEN = "tok-9f8e7d6c5b4a"
ID = make_id(birth="19900101", seq="123")
PHONE = "13812345678"
REGISTRATION = [
    "登记", "同意", "王小明", ID, "138 1234 5678", "青岩", "歪脚村", "3组", "本人", "1", "健康",
    "没有", "没有", "电焊", "在东莞电子厂做过3年普工", "4", "就近就业", "普工", "花溪区内", "面议",
    "确认",
]


@pytest.fixture
def debug_log(caplog):
    """Everything logged, at DEBUG, as ``python -m bot -v`` logs it (chatty libraries held
    back as the command line does), but *without* the redacting filter: the code itself must
    not log personal data."""
    levels = {name: logging.getLogger(name).level for name in CHATTY}
    caplog.set_level(logging.DEBUG)
    quiet_chatty_libraries()
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def source_files() -> list[Path]:
    files = []
    for folder in SOURCE_DIRS:
        files += [p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts]
    return files


async def register(bot: BotDriver, user: str = "u1") -> str:
    reply = ""
    for text in REGISTRATION:
        reply = await bot.ask(user, text)
    assert "登记成功" in reply, reply
    return reply


# ===== who can see what ===========================================================================
async def test_every_staff_command_is_refused_to_non_staff(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u2", name="李四")
        # (A command with a ``non_staff`` handler, such as /投诉, serves them instead.)
        for cmd in {c for c in COMMANDS.values() if c.roles is not None and c.non_staff is None}:
            reply = await bot.ask("u1", f"/{cmd.name} 李四")
            assert "工作人员用的命令" in reply, (cmd.name, reply)
            assert "李四" not in reply
        async with bot.app.db.session() as s:
            assert (await s.execute(select(AuditLog))).all() == []


async def test_cadres_see_only_their_own_area(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1", name="王小明", township="青岩镇", village="歪脚村")
            await add_worker(s, "sim:u2", name="李四", township="青岩镇", village="龙井村")
            await add_worker(s, "sim:u3", name="张三", township="石板镇", village="石板村")
            await add_cadre(s, "sim:v1", "village", "青岩镇", "歪脚村")
            await add_cadre(s, "sim:t1", "township", "青岩镇")
            await add_cadre(s, "sim:d1", "district")
        seen = {}
        for cadre in ("v1", "t1", "d1"):
            seen[cadre] = {name for name in ("王小明", "李四", "张三")
                           if "编号" in (r := await bot.ask(cadre, f"/查 {name}")) and name in r}
        assert seen == {"v1": {"王小明"}, "t1": {"王小明", "李四"},
                        "d1": {"王小明", "李四", "张三"}}
        assert "张三" not in await bot.ask("v1", "/名单 待就业 石板镇")
        assert "李四" not in await bot.ask("v1", "/名单 待就业")


async def test_personal_data_commands_are_refused_in_groups(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1", name="王小明", phone=PHONE)
            await add_cadre(s, "sim:d1", "district")
        for command in ("/查 王小明", "/名单 待就业", "/导出", "/登记", "/修改 1"):
            out = await bot.say("d1", command, chat="group:g1")
            assert out and all(o["chat"] == "group:g1" for o in out)
            assert all("私聊" in o["text"] and "王小明" not in o["text"] for o in out), out


async def test_group_replies_never_carry_personal_data(settings):
    async with BotDriver(settings) as bot:
        await register(bot)
        for text in ("我的信息", "登记", "确认", ID, "注销", "/帮助"):
            out = await bot.say("u1", text, chat="group:g1")
            for o in out:
                assert o["chat"] == "group:g1"
                assert "王小明" not in o["text"] and "5678" not in o["text"], o
                assert ID[-4:] not in o["text"]


async def test_employment_bureau_sees_no_health_data(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1", name="王小明", health="慢性病", symptoms=["咳嗽"])
            await add_cadre(s, "sim:b1", "bureau")
        record = await bot.ask("b1", "/查 王小明")
        assert "王小明" in record and "慢性病" not in record and "咳嗽" not in record
        assert "权限" in await bot.ask("b1", "/名单 异常")


async def test_id_and_phone_are_masked_wherever_shown(settings):
    async with BotDriver(settings) as bot:
        for text in REGISTRATION[:-1]:
            summary = await bot.ask("u1", text)
        assert "5201**********123" in summary and "138****5678" in summary
        back = await bot.ask("u1", "修改 2")  # the ID number question, with the old answer
        assert "之前填的是：5201**********" in back
        await bot.ask("u1", "不变")
        await bot.ask("u1", "确认")
        info = await bot.ask("u1", "我的信息")
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:d1", "district")
        record = await bot.ask("d1", f"/查 {PHONE}")
        linking = [await bot.ask("u9", t) for t in ("关联", ID, "返回")]  # shown again after 返回
        for text in (summary, back, info, record, *linking):
            flat = re.sub(r"\s", "", text)
            assert ID not in flat and PHONE not in flat, text
        assert "138****5678" in info and "138****5678" in record
        assert "5201**********" in linking[-1]


# ===== tokens =====================================================================================
async def test_qq_cannot_run_without_a_token():
    with pytest.raises(ConfigError, match="ONEBOT_ACCESS_TOKEN"):
        build_transports(Settings(onebot_ws_url="ws://127.0.0.1:3001", simulator=False))
    with pytest.raises(ConfigError, match="ONEBOT_ACCESS_TOKEN"):
        build_transports(Settings(onebot_reverse_ws="127.0.0.1:8081", simulator=False))

    async def ignore(_):
        return None

    for blank in ("", "   "):
        with pytest.raises(ConfigError):
            await OneBotReverseServer("127.0.0.1", 0, blank).start(ignore)
        with pytest.raises(ConfigError):
            await OneBotForwardTransport("ws://127.0.0.1:1/", blank).start(ignore)


def test_tokens_come_only_from_the_environment():
    assert Settings().onebot_access_token == "" and Settings().wechaty_token == ""
    env = {"ONEBOT_ACCESS_TOKEN": TOKEN, "WECHATY_PUPPET_SERVICE_TOKEN": TOKEN + "w"}
    settings = Settings.from_env(env, dotenv=False)
    assert (settings.onebot_access_token, settings.wechaty_token) == (TOKEN, TOKEN + "w")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in ("ONEBOT_ACCESS_TOKEN", "WECHATY_PUPPET_SERVICE_TOKEN"):
        assert re.search(rf"^{name}=$", example, re.M), f"{name} must be empty in .env.example"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored


@pytest.mark.integration
async def test_reverse_websocket_checks_the_token_in_constant_time():
    assert "hmac.compare_digest" in inspect.getsource(OneBotReverseServer._authorized)
    server = OneBotReverseServer("127.0.0.1", 0, TOKEN, stop_grace=0.2)

    async def ignore(_):
        return None

    await server.start(ignore)
    url = f"ws://127.0.0.1:{server.port}/"
    try:
        async with aiohttp.ClientSession() as http:
            for header in ("", "Bearer wrong", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x",
                           f"Basic {TOKEN}", "Bearer "):
                headers = {"X-Self-ID": "10001", **({"Authorization": header} if header else {})}
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(url, headers=headers)
                assert refused.value.status == 401, header
            for header in (f"Bearer {TOKEN}", f"Token {TOKEN}"):
                ws = await http.ws_connect(url, headers={"X-Self-ID": "10001",
                                                         "Authorization": header})
                await ws.close()
    finally:
        await server.stop()


async def test_listeners_bind_to_loopback_by_default(caplog):
    assert parse_host_port("8081") == ("127.0.0.1", 8081)
    assert Settings().simulator_host == "127.0.0.1"
    [sim] = build_transports(Settings())
    assert sim.host == "127.0.0.1"  # type: ignore[attr-defined]
    server = OneBotReverseServer("0.0.0.0", 0, TOKEN, stop_grace=0.2)

    async def ignore(_):
        return None

    with caplog.at_level(logging.WARNING):
        await server.start(ignore)
        await server.stop()
    assert "reachable from other machines" in caplog.text


@pytest.mark.integration
async def test_tokens_and_personal_data_never_logged_over_qq(settings, debug_log):
    """A whole registration over QQ (OneBot stand-in), a wrong-token connection and a DEBUG log:
    no token, ID number or phone in any line."""
    standin = OneBotStandIn(access_token=TOKEN, heartbeat_interval=0.5)
    url = await standin.start()
    from bot.app import App

    wrong = OneBotForwardTransport(url + f"?access_token={TOKEN}", TOKEN + "-wrong",
                                   backoff_initial=0.05, backoff_max=0.1)

    async def ignore(_):
        return None

    await wrong.start(ignore)
    await standin.wait_for(lambda: standin.rejected >= 1)
    await wrong.stop()
    transport = OneBotForwardTransport(url, TOKEN, backoff_initial=0.05, backoff_max=0.2)
    app = App(replace(settings, send_rate_per_min=100_000, send_chat_gap=0.0),
              transports=[transport])
    await app.start()
    try:
        assert await transport.wait_connected(3)
        for i, text in enumerate(REGISTRATION, 1):
            await standin.push(standin.message(text, user_id=20001, form="string"))
            await standin.wait_call("send_private_msg", i, within=5)
        await standin.wait_for(lambda: any(
            "登记成功" in json.dumps(c, ensure_ascii=False) for c in standin.calls), within=5)
    finally:
        async with asyncio.timeout(10):
            await app.stop()
            await standin.stop()
    logged = debug_log.text
    assert "QQ: connected to OneBot" in logged  # the log was captured
    for secret in (TOKEN, ID, PHONE, "138 1234 5678"):
        assert secret not in logged, secret


def test_wechat_puppet_logger_kept_quiet():
    """python-wechaty's PuppetService logs the token at WARNING: kept at ERROR."""
    from bot.transports.wechat import _wechaty

    _wechaty()
    assert logging.getLogger("PuppetService").getEffectiveLevel() >= logging.ERROR


# ===== what is logged =============================================================================
async def test_a_full_registration_logs_no_personal_data(settings, debug_log):
    async with BotDriver(settings) as bot:
        await register(bot)
        await bot.ask("u1", "我的信息")
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:d1", "district")
        await bot.ask("d1", f"/查 {PHONE}")
        await bot.ask("d1", f"/查 {ID}")
        await bot.ask("u1", "注销")
        await bot.ask("u1", "确认注销")
    records = debug_log.records
    assert records, "nothing was captured"
    for record in records:
        line = record.getMessage() + (record.exc_text or "")
        for secret in (ID, PHONE, "138 1234 5678", "王小明", "歪脚村3组"):
            assert secret not in line, (secret, line)


LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
PERSONAL = re.compile(r"id_number|phone|token|password|answers|sender_name|\.text\b"
                      r"|(?:worker|cadre|w|person|contact|msg|message|inbound)\.name\b")
WHOLE = {"payload", "data", "msg", "message", "inbound", "text", "row", "state"}
# DEBUG lines that may quote a malformed platform payload (which can hold message text); -v only.
DEBUG_PAYLOAD_LINES = {("bot/transports/onebot_codec.py", "payload"),
                       ("bot/transports/onebot.py", "data")}


def test_log_calls_never_format_personal_fields():
    """Every log call in the code: no argument is a message text, a name, an ID number, a phone,
    answers or a token (found by reading the source)."""
    offending = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in LOG_METHODS and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("log", "logger", "logging")):
                continue
            for arg in node.args[1:]:
                text = ast.unparse(arg)
                if node.func.attr == "debug" and (rel, text) in DEBUG_PAYLOAD_LINES:
                    continue
                if PERSONAL.search(text) or text in WHOLE:
                    offending.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert offending == []


async def test_database_errors_do_not_quote_values(database_url):
    """A unique-key error on a worker's ID number: the values are not in the error's text."""
    db = Database(database_url)
    await db.migrate()
    try:
        async with db.session() as s:
            await add_worker(s, name="王小明", id_number=ID, phone=PHONE)
        with pytest.raises(IntegrityError) as err:
            async with db.session() as s:
                await add_worker(s, name="王小明", id_number=ID, phone=PHONE)
        assert ID not in str(err.value) and PHONE not in str(err.value)
        assert "hidden" in str(err.value)
    finally:
        await db.close()


def test_the_log_filter_masks_ids_phones_tokens_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter([TOKEN]))
    log = logging.getLogger("tests.security.redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise ValueError(f"DETAIL:  Key (id_number)=({ID}) already exists; phone 138-1234-5678")
        except ValueError:
            log.exception("failed for %s with token %s", PHONE, TOKEN)
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert ID not in out and PHONE not in out and "138-1234-5678" not in out and TOKEN not in out
    assert "520111********123" in out and "138****5678" in out and "***" in out
    assert "ValueError" in out  # the traceback is still there
    assert redact("message 2147483647 from 10001") == "message 2147483647 from 10001"


def test_without_quieting_aiosqlite_would_log_values():
    """Why aiosqlite is held at INFO: at DEBUG it logs each statement with its values."""
    import aiosqlite.core

    assert re.search(r"\.debug\(", inspect.getsource(aiosqlite.core))
    assert CHATTY["aiosqlite"] >= logging.INFO


def test_the_command_line_installs_the_log_filter(tmp_path, monkeypatch):
    from bot import cli

    script = tmp_path / "script.jsonl"
    script.write_text(json.dumps({"user": "u1", "text": "你好"}, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    monkeypatch.setenv("ONEBOT_ACCESS_TOKEN", TOKEN)
    root = logging.getLogger()
    try:
        assert cli.main(["replay", str(script)]) == 0
        filters = [f for h in root.handlers for f in h.filters if isinstance(f, RedactingFilter)]
        assert filters and all(TOKEN in f.secrets for f in filters)
        assert logging.getLogger("aiosqlite").getEffectiveLevel() >= logging.INFO
    finally:
        logging.getLogger("aiosqlite").setLevel(logging.NOTSET)
        for h in root.handlers:
            for f in [f for f in h.filters if isinstance(f, RedactingFilter)]:
                h.removeFilter(f)


# ===== injection ==================================================================================
@given(st.text(min_size=1, max_size=80))
def test_user_text_only_ever_goes_out_as_a_text_segment(text: str):
    for chat in (ChatRef("qq", "group", "30001"), ChatRef("qq", "private", "20001")):
        segments = codec.encode_message(Outbound(chat, "x" + text))
        assert segments == [{"type": "text", "data": {"text": "x" + text}}]


@given(st.text(min_size=1, max_size=80))
def test_cq_escaping_keeps_text_literal(text: str):
    assert codec.parse_cq_string(codec.cq_escape(text)) == [
        {"type": "text", "data": {"text": text}}]
    assert "[" not in codec.cq_escape(text, comma=True) and "," not in codec.cq_escape(text, comma=True)


def test_at_all_only_when_a_command_asks_for_it():
    group = ChatRef("qq", "group", "30001")
    for mentions in (("all",), ("0",), ("@all",), ("全体成员",), ("20001", "all")):
        segments = codec.encode_message(Outbound(group, "开会", mentions=mentions))
        assert all(s["data"].get("qq") not in ("all", "0") for s in segments), mentions
    asked = codec.encode_message(Outbound(group, "开会", mention_all=True))
    assert asked[0] == {"type": "at", "data": {"qq": "all"}}
    # …and no handler, dialog or job asks for it.
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "mention_all":
                assert (isinstance(node.value, ast.Constant) and node.value.value is False) or \
                    isinstance(node.value, ast.Name | ast.Attribute), (path, ast.unparse(node))
    handler_code = "\n".join(p.read_text(encoding="utf-8") for p in source_files()
                             if p.parts[-2] in ("handlers", "scheduler", "dialogs"))
    assert "mention_all=True" not in handler_code


def test_wechat_text_cannot_notify_everyone():
    from bot.transports.wechat import _plain

    for text in ("@所有人 开会", "@all 开会", "@ALL"):
        assert not re.search(r"@(所有人|all)", _plain(text), re.I), _plain(text)


def test_simulator_page_puts_text_in_as_text():
    page = (ROOT / "bot" / "transports" / "simulator_page.html").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                 "new Function"):
        assert sink not in page, sink
    assert "textContent" in page


async def test_sql_in_answers_and_commands_is_plain_text(settings):
    async with BotDriver(settings) as bot:
        answers = list(REGISTRATION)
        answers[13] = "'; DROP TABLE worker; --"  # 技能特长
        for text in answers:
            reply = await bot.ask("u1", text)
        assert "登记成功" in reply
        async with bot.app.db.session() as s:
            await add_cadre(s, "sim:d1", "district")
        assert "没有找到" in await bot.ask("d1", "/查 ' OR '1'='1")
        async with bot.app.db.session() as s:
            [worker] = (await s.execute(select(Worker))).scalars().all()
            assert worker.skills == "'; DROP TABLE worker; --"


def test_no_sql_is_built_from_strings():
    """SQL text in the code is constant; values are always bound parameters."""
    found = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and (node.module or "").startswith("sqlalchemy") for a in node.names
                 if a.name == "text"}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id in names)
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "exec_driver_sql")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "text"
                    and ast.unparse(node.func.value) in ("sqlalchemy", "sa"))
            ) and node.args and not isinstance(node.args[0], ast.Constant):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


# ===== deletion and the audit log =================================================================
async def test_erasure_is_in_the_worker_menu(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1")
        assert "注销" in await bot.ask("u1", "/帮助")


async def test_reading_and_exporting_records_is_audited(settings, tmp_path):
    async with BotDriver(replace(settings, extra={"export_dir": str(tmp_path)})) as bot:
        async with bot.app.db.session() as s:
            worker = await add_worker(s, "sim:u1", name="王小明")
            await add_cadre(s, "sim:d1", "district")
        await bot.ask("d1", "/查 王小明")
        await bot.say("d1", "/导出")
        async with bot.app.db.session() as s:
            rows = (await s.execute(select(AuditLog).order_by(AuditLog.id))).scalars().all()
        assert [(r.actor, r.action, r.target) for r in rows] == [
            ("sim:d1", "worker.view", str(worker.id)), ("sim:d1", "export", "全区")]


async def test_the_audit_log_holds_no_full_id_or_phone(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1", name="王小明", id_number=ID, phone=PHONE)
            await add_cadre(s, "sim:d1", "district")
        await bot.ask("d1", f"/查 {ID}")
        await bot.ask("d1", f"/查 {PHONE}")
        async with bot.app.db.session() as s:
            details = " ".join((await s.execute(select(AuditLog.detail))).scalars())
        assert ID not in details and PHONE not in details


async def test_erasure_is_audited_without_personal_data(settings):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            worker = await add_worker(s, "sim:u1", name="王小明", id_number=ID, phone=PHONE)
        await bot.ask("u1", "确认注销")
        async with bot.app.db.session() as s:
            [row] = (await s.execute(select(AuditLog))).scalars().all()
            assert await s.scalar(select(func.count()).select_from(Worker)) == 0
        assert (row.actor, row.action, row.target) == ("worker", "worker.erase", str(worker.id))
        for secret in ("王小明", ID, PHONE, "sim:u1", "u1"):
            assert secret not in f"{row.actor} {row.target} {row.detail}"
