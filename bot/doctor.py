"""``python -m bot check``: what district IT staff run before switching the bot on.

It reads the configuration the way ``python -m bot`` does and checks each thing a first day
depends on — the database and its schema, the township list, the Chinese font for the report
chart, the QQ and WeChat endpoints (really connecting, with the token), the groups, the staff,
the sending rate against the number of workers, and messages that failed lately — and prints
one line per check in Chinese: ``✔`` fine, ``!`` works but worth a look, ``✘`` must be fixed.
It changes nothing (no migration, no message sent). Exit status 1 when any ``✘``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from bot.config import Settings

OK, WARN, FAIL = "✔", "!", "✘"
CONNECT_TIMEOUT = 5.0


@dataclass
class Report:
    lines: list[tuple[str, str]] = field(default_factory=list)

    def add(self, mark: str, text: str) -> None:
        self.lines.append((mark, text))

    @property
    def failed(self) -> bool:
        return any(mark == FAIL for mark, _ in self.lines)


async def check(settings: Settings, out: TextIO) -> int:
    report = Report()
    steps: list[Callable[[Settings, Report], object]] = [
        _database, _townships, _labour, _font, _qq, _wechat, _groups, _simulator,
    ]
    for step in steps:
        result = step(settings, report)
        if asyncio.iscoroutine(result):
            await result
    for mark, text in report.lines:
        out.write(f"{mark} {text}\n")
    fails = sum(mark == FAIL for mark, _ in report.lines)
    warns = sum(mark == WARN for mark, _ in report.lines)
    if fails:
        out.write(f"\n有 {fails} 项必须先处理（✘），{warns} 项建议看看（!）。\n")
    elif warns:
        out.write(f"\n可以启动。有 {warns} 项建议看看（!）。\n")
    else:
        out.write("\n一切正常，可以启动：python -m bot\n")
    return 1 if report.failed else 0


# ----- the checks --------------------------------------------------------------------------------
async def _database(settings: Settings, report: Report) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import func, inspect, select

    from models.db import Database, alembic_config

    db = Database(settings.database_url)
    try:
        async with db.engine.connect() as conn:
            current = await conn.run_sync(
                lambda c: set(MigrationContext.configure(c).get_current_heads()))
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
        where = db.dialect
        if not current:
            report.add(OK, f"数据库（{where}）能连上，还是空的：第一次启动时自动建表。")
            return
        if current != heads:
            report.add(OK, f"数据库（{where}）能连上；表结构会在启动时自动升级到最新。")
        else:
            report.add(OK, f"数据库（{where}）能连上，表结构是最新的。")
        if not {"worker", "cadre", "outboxmessage", "identity"} <= tables:
            return
        await _contents(db, settings, report, func, select)
    except Exception as exc:
        report.add(FAIL, f"数据库连不上：{_reason(exc)}。请检查 DATABASE_URL。")
    finally:
        await db.close()


async def _contents(db, settings: Settings, report: Report, func, select) -> None:
    from models.tables import Cadre, Identity, OutboxMessage

    async with db.session() as s:
        cadres = dict((await s.execute(
            select(Cadre.role, func.count()).group_by(Cadre.role))).all())
        reachable = await s.scalar(
            select(func.count(func.distinct(Identity.worker_id)))
            .where(Identity.worker_id.is_not(None))) or 0
        since = datetime.now(UTC) - timedelta(days=1)
        failed = dict((await s.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(("failed", "unknown")),
                   OutboxMessage.created_at >= since)
            .group_by(OutboxMessage.status))).all())
    if not cadres:
        report.add(WARN, "还没有工作人员：用 python -m bot cadre add 添加区专班、乡镇、村干部，"
                         "或用 cadre invite 生成邀请码。")
    else:
        names = {"district": "区专班", "bureau": "人社局/就业局", "township": "乡镇",
                 "village": "村"}
        shown = "，".join(f"{names.get(r, r)} {n} 人" for r, n in sorted(cadres.items()))
        report.add(OK, f"工作人员：{shown}。")
        if "district" not in cadres:
            report.add(WARN, "没有区专班的工作人员：打卡异常的提醒只发给村、乡镇干部。")
    rate = max(1, settings.send_rate_per_min)
    if reachable:
        hours = reachable / rate / 60
        text = (f"{reachable} 位登记人员绑定了微信/QQ；按每分钟 {rate} 条，每天早上的打卡提醒"
                f"约需 {_duration(hours)} 发完（每个账号）。")
        report.add(WARN if hours > 3 else OK,
                   text + ("人数多时请多接几个账号，或适当调高 SEND_RATE_PER_MIN。"
                           if hours > 3 else ""))
    if failed:
        report.add(WARN, f"最近一天有 {failed.get('failed', 0)} 条消息发送失败、"
                         f"{failed.get('unknown', 0)} 条不确定是否发出（不会重发）：请看日志里的原因。")


def _townships(settings: Settings, report: Report) -> None:
    from dialogs.parsing.places import TownshipDirectory

    try:
        townships = TownshipDirectory.from_csv(settings.townships_csv)
        count = len(townships.all)
        if not count:
            raise ValueError("文件里没有乡镇")
        report.add(OK, f"乡镇/街道名单：{count} 个（{settings.townships_csv.name}）。")
    except Exception as exc:
        report.add(FAIL, f"乡镇/街道名单读不了（{settings.townships_csv}）：{_reason(exc)}。")


def _labour(settings: Settings, report: Report) -> None:
    """The villages' labour counts (LABOUR_CSV), for survey progress (scheduler/lagging.py)."""
    from dialogs.parsing.places import TownshipDirectory
    from scheduler.lagging import read_labour

    path = settings.labour_csv
    try:
        labour = read_labour(path, TownshipDirectory.from_csv(settings.townships_csv))
    except FileNotFoundError:
        report.add(WARN, f"劳动力人数表 {path} 不存在：摸排进度不计算（打卡率照常）。")
        return
    except Exception as exc:
        report.add(WARN, f"劳动力人数表 {path.name} 有误，摸排进度暂不计算：{_reason(exc)}。")
        return
    if len(labour):
        report.add(OK, f"劳动力人数表：{len(labour)} 个村（{path.name}），日报列出摸排进度低于"
                       f"{round(settings.lag_survey_rate * 100)}%的村。")
    else:
        report.add(OK, f"劳动力人数表还没有填（{path.name}）：填了各村劳动力人数，日报才列出摸排进度低的村。")


def _font(settings: Settings, report: Report) -> None:
    from scheduler.chart import find_cjk_font

    font = find_cjk_font()
    if font:
        report.add(OK, f"日报图表的中文字体：{font}。")
    else:
        report.add(WARN, "没有中文字体，日报图表里的字会显示成方框："
                         "Debian/Ubuntu 请安装 fonts-noto-cjk（apt install fonts-noto-cjk）。")


async def _qq(settings: Settings, report: Report) -> None:
    if settings.onebot_reverse_ws:
        report.add(OK, f"QQ（反向 WebSocket）：启动后在 {settings.onebot_reverse_ws} 等待 OneBot 实现连接；"
                       "OneBot 那边的地址要填 ws://这个地址，token 要与 ONEBOT_ACCESS_TOKEN 一致。")
    if not settings.onebot_ws_url:
        if not settings.onebot_reverse_ws:
            report.add(OK, "QQ：没有配置（不接 QQ）。")
        return
    import aiohttp

    headers = {"Authorization": f"Bearer {settings.onebot_access_token}"}
    echo = secrets.token_hex(4)
    try:
        timeout = aiohttp.ClientTimeout(total=CONNECT_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http, \
                http.ws_connect(settings.onebot_ws_url, headers=headers) as ws:
            await ws.send_str(json.dumps({"action": "get_login_info", "params": {},
                                          "echo": echo}))
            async with asyncio.timeout(CONNECT_TIMEOUT):
                while True:
                    msg = await ws.receive()
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        raise ConnectionError("连接被关闭")
                    data = json.loads(msg.data)
                    if data.get("echo") == echo:
                        break
        info = data.get("data") or {}
        if data.get("status") == "ok" and info.get("user_id"):
            report.add(OK, f"QQ（{settings.onebot_ws_url}）：已连上，登录的 QQ 号 "
                           f"{info.get('user_id')}（{info.get('nickname', '')}）。")
        else:
            report.add(WARN, f"QQ（{settings.onebot_ws_url}）：连上了，但还没登录 QQ 号："
                             f"{data.get('wording') or data.get('msg') or '请在 OneBot 实现里登录'}。")
    except aiohttp.WSServerHandshakeError as exc:
        if exc.status in (401, 403):
            report.add(FAIL, f"QQ（{settings.onebot_ws_url}）：令牌不对（{exc.status}），"
                             "ONEBOT_ACCESS_TOKEN 要与 OneBot 实现里的 token 一致。")
        else:
            report.add(FAIL, f"QQ（{settings.onebot_ws_url}）：对方拒绝连接（{exc.status}）。")
    except (TimeoutError, aiohttp.ClientError, OSError, ConnectionError, ValueError) as exc:
        report.add(FAIL, f"QQ（{settings.onebot_ws_url}）：连不上（{_reason(exc)}）。"
                         "请确认 NapCat/Lagrange/go-cqhttp 已启动，并开了正向 WebSocket。")


async def _wechat(settings: Settings, report: Report) -> None:
    if not settings.wechaty_endpoint:
        report.add(OK, "微信：没有配置（不接微信）。")
        return
    host, _, port = settings.wechaty_endpoint.rpartition(":")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            _reader, writer = await asyncio.open_connection(host or "127.0.0.1", int(port))
        writer.close()
        report.add(OK, f"微信 puppet service（{settings.wechaty_endpoint}）：端口能连上"
                       "（令牌是否正确，启动后看日志）。")
    except (TimeoutError, OSError, ValueError) as exc:
        report.add(FAIL, f"微信 puppet service（{settings.wechaty_endpoint}）：连不上"
                         f"（{_reason(exc)}），请先启动 puppet service。")


def _groups(settings: Settings, report: Report) -> None:
    if settings.taskforce_groups:
        report.add(OK, f"专班群 {len(settings.taskforce_groups)} 个：每天 "
                       f"{settings.report_time:%H:%M} 发日报。")
    else:
        report.add(WARN, "没有配置专班群（TASKFORCE_GROUPS）：日报和异常提醒不会发到群里。")
    connected = {p for p, on in (("qq", settings.onebot_ws_url or settings.onebot_reverse_ws),
                                 ("wx", settings.wechaty_endpoint),
                                 ("sim", settings.simulator)) if on}
    for group in (*settings.taskforce_groups, *settings.job_groups):
        if group.platform not in connected:
            report.add(FAIL, f"群 {group.platform}:{group.chat_id} 所在的平台没有接入，消息发不出去。")
    if not settings.job_groups:
        report.add(OK, "没有配置岗位群（JOB_GROUPS）：新岗位只私信推送，不发群。")


def _simulator(settings: Settings, report: Report) -> None:
    real = settings.onebot_ws_url or settings.onebot_reverse_ws or settings.wechaty_endpoint
    if settings.simulator and real:
        report.add(WARN, "网页模拟器还开着：它没有登录，正式使用请设置 SIMULATOR=off。")
    elif settings.simulator:
        report.add(OK, f"网页模拟器：http://{settings.simulator_host}:{settings.simulator_port}"
                       "（只用于试用）。")


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{max(1, round(hours * 60))} 分钟"
    return f"{hours:.1f} 小时"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
