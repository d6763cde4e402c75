"""The command line: ``python -m bot [run | check | replay FILE | cadre add | cadre invite |
export | import FILE]``.

Messages for the person at the terminal are in Chinese (district IT staff run these).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from bot.config import ConfigError, Settings

log = logging.getLogger("bot")
ROLE_CHOICES = ("district", "township", "village", "bureau")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="返岗通 机器人")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="运行机器人（默认）")
    sub.add_parser("check", help="启动前检查：数据库、QQ/微信连接、群、工作人员、字体等（不做任何修改）")
    replay = sub.add_parser("replay", help="回放脚本对话，逐行输出机器人发出的消息")
    replay.add_argument("file", help="JSONL 文件；“-”表示标准输入")
    cadre = sub.add_parser("cadre", help="工作人员管理")
    cadre_sub = cadre.add_subparsers(dest="cadre_command", required=True)
    cadre_sub.add_parser("list", help="列出工作人员（含已停用的）")
    remove = cadre_sub.add_parser("remove", help="停用工作人员（调走、离职）：立即不能再用工作人员命令")
    remove.add_argument("identity", help="平台:账号，例如 qq:10001")
    for name, text in (("add", "直接添加工作人员"), ("invite", "生成一次性邀请码（对方发 /绑定 邀请码）")):
        p = cadre_sub.add_parser(name, help=text)
        if name == "add":
            p.add_argument("identity", help="平台:账号，例如 qq:10001、wx:wxid_abc")
        p.add_argument("--name", required=True, help="姓名")
        p.add_argument("--role", required=True, choices=ROLE_CHOICES,
                       help="district=区专班 township=乡镇 village=村 bureau=人社局/就业局")
        p.add_argument("--area", default="", help="范围，例如 青岩镇 或 青岩镇/歪脚村")
    export = sub.add_parser("export", help="导出务工人员名册（Excel：人员、家庭户、今日打卡）")
    export.add_argument("--area", default="", help="范围，例如 青岩镇 或 青岩镇/歪脚村；默认全区")
    export.add_argument("-o", "--output", default="", help="输出的 .xlsx 文件")
    imp = sub.add_parser("import", help="导入村里的摸排表（Excel），有一行不合格就全部不导入")
    imp.add_argument("file", help=".xlsx 文件")
    imp.add_argument("--area", default="", help="表里没有乡镇、村两列时，用这个 乡镇/村")
    imp.add_argument("--check", action="store_true", help="只检查，不写入数据库")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"配置有误：{exc}", file=sys.stderr)
        return 2
    from bot.logsafe import install

    install(settings)  # no ID number, phone or token in the log, whatever a message says
    command = args.command or "run"
    try:
        if command == "run":
            return asyncio.run(run(settings))
        if command == "replay":
            return asyncio.run(replay(settings, args.file))
        if command == "check":
            from bot.doctor import check

            logging.getLogger().setLevel(logging.WARNING)  # the report is the output
            return asyncio.run(check(settings, sys.stdout))
        if command == "cadre":
            return asyncio.run(cadre(settings, args))
        if command in ("export", "import"):
            from models import roster

            if command == "export":
                return asyncio.run(roster.cli_export(settings, args.area, args.output,
                                                     sys.stdout, sys.stderr))
            return asyncio.run(roster.cli_import(settings, args.file, args.area, args.check,
                                                 sys.stdout, sys.stderr))
    except KeyboardInterrupt:
        return 130
    return 0


async def run(settings: Settings) -> int:
    from bot.app import App
    from bot.transports.factory import build_transports

    try:
        transports = build_transports(settings)
    except ConfigError as exc:
        print(f"配置有误：{exc}", file=sys.stderr)
        return 2
    app = App(settings, transports=transports)
    sim = app.transports.get("sim")
    if sim is not None:
        sim.flush = lambda: app.outbound.drain(["sim"])  # type: ignore[attr-defined]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await app.start()
    except OSError as exc:
        print(f"启动失败：{exc}", file=sys.stderr)
        await app.stop()
        return 1
    where = ", ".join(sorted(app.transports)) or "无"
    print(f"返岗通已启动（数据库：{_safe_url(settings.database_url)}；连接：{where}）", flush=True)
    if sim is not None:
        print(f"网页模拟器：http://{settings.simulator_host}:{sim.port}", flush=True)  # type: ignore[attr-defined]
    await stop.wait()
    await app.stop()
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def replay(settings: Settings, file: str) -> int:
    from bot.replay import run_replay

    if file == "-":
        lines: Any = sys.stdin
        return 1 if await run_replay(settings, lines, sys.stdout) else 0
    try:
        handle = open(file, encoding="utf-8")  # noqa: ASYNC230 - read line by line
    except OSError as exc:
        print(f"打不开文件 {file}：{exc.strerror}", file=sys.stderr)
        return 2
    with handle:
        return 1 if await run_replay(settings, handle, sys.stdout) else 0


async def cadre(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import Clock
    from dialogs.parsing.errors import ParseError
    from dialogs.parsing.places import TownshipDirectory, parse_village
    from models.cadres import INVITE_VALID, add_cadre, create_invite, list_cadres, remove_cadre
    from models.db import Database

    if args.cadre_command in ("list", "remove"):
        db = Database(settings.database_url)
        try:
            await db.migrate()
            async with db.session() as session:
                if args.cadre_command == "list":
                    print(await list_cadres(session))
                    return 0
                done = await remove_cadre(session, args.identity, Clock().utcnow())
        finally:
            await db.close()
        if done is None:
            print(f"没有这个工作人员：{args.identity}（用 cadre list 查看）", file=sys.stderr)
            return 2
        print(f"已停用：{done}（{args.identity}）。要恢复，用 cadre add 重新添加。")
        return 0
    township = village = None
    if args.area:
        parts = [p.strip() for p in args.area.replace("／", "/").split("/") if p.strip()]
        try:
            township = TownshipDirectory.from_csv(settings.townships_csv).match(parts[0]).name
            village = parse_village(parts[1]) if len(parts) > 1 else None
        except ParseError as exc:
            print(f"范围有误：{exc.hint}", file=sys.stderr)
            return 2
    if args.role == "township" and not township:
        print("乡镇干部需要 --area 乡镇，例如 --area 青岩镇", file=sys.stderr)
        return 2
    if args.role == "village" and not village:
        print("村干部需要 --area 乡镇/村，例如 --area 青岩镇/歪脚村", file=sys.stderr)
        return 2
    if args.role in ("district", "bureau"):
        township = village = None
    db = Database(settings.database_url)
    try:
        await db.migrate()
        now = Clock().utcnow()
        async with db.session() as session:
            if args.cadre_command == "add":
                if ":" not in args.identity:
                    print("账号应写成 平台:账号，例如 qq:10001", file=sys.stderr)
                    return 2
                await add_cadre(session, args.identity, args.name, args.role, township,
                                village, now)
                print(f"已添加：{args.name}（{args.identity}）")
            else:
                code = await create_invite(session, args.name, args.role, township, village, now)
                print(f"邀请码：{code}\n请让 {args.name} 私聊机器人发送：/绑定 {code}\n"
                      f"邀请码只能用一次，{INVITE_VALID.days} 天内有效。")
    finally:
        await db.close()
    return 0
