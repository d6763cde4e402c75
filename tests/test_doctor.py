"""``python -m bot check``: the pre-flight check district IT staff run, against a real database
and a real OneBot stand-in (right token, wrong token, nothing listening)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

from tests.factories import add_cadre, add_worker
from tests.harness import BotDriver
from tests.onebot_standin import OneBotStandIn

ROOT = Path(__file__).resolve().parent.parent


async def run_check(database_url: str, **env: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "SIMULATOR": "off", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_check_reports_what_a_first_day_depends_on(settings, database_url):
    async with BotDriver(settings) as bot:
        async with bot.app.db.session() as s:
            await add_worker(s, "sim:u1", name="王小明")
            await add_cadre(s, "sim:c1", "village", "青岩镇", "歪脚村")
    standin = OneBotStandIn(access_token="right-token", self_id=20002)
    url = await standin.start()
    try:
        code, out, err = await run_check(database_url, ONEBOT_WS_URL=url,
                                         ONEBOT_ACCESS_TOKEN="right-token",
                                         TASKFORCE_GROUPS="qq:123456")
        assert code == 0, out + err
        assert "表结构是最新的" in out and "村 1 人" in out and "没有区专班" in out
        assert "已连上" in out and "20002" in out and "专班群 1 个" in out
        assert "Traceback" not in err and "right-token" not in out + err
        code, out, _ = await run_check(database_url, ONEBOT_WS_URL=url,
                                       ONEBOT_ACCESS_TOKEN="wrong-token")
        assert code == 1 and "令牌不对" in out and "没有配置专班群" in out
    finally:
        await standin.stop()
    code, out, _ = await run_check(database_url, ONEBOT_WS_URL=url, ONEBOT_ACCESS_TOKEN="x",
                                   TASKFORCE_GROUPS="wx:1@chatroom")
    assert code == 1 and "连不上" in out and "wx:1@chatroom" in out and "必须先处理" in out


async def test_check_on_an_empty_database_changes_nothing(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    code, out, err = await run_check(url)
    assert code == 0, out + err
    assert "还是空的" in out and "还没有工作人员" not in out
    with sqlite3.connect(tmp_path / "new.db") as conn:  # no tables were made
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


async def test_check_names_an_unreachable_database():
    code, out, err = await run_check("postgresql+asyncpg://bot@127.0.0.1:1/nowhere")
    assert code == 1 and "数据库连不上" in out and "DATABASE_URL" in out
    assert "Traceback" not in err
