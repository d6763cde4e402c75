"""The admin command line: enrolling cadres, directly and by invite code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.harness import BotDriver

ROOT = Path(__file__).resolve().parent.parent


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SIMULATOR": "off"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=60)


async def test_cadre_add_and_invite(settings, database_url):
    done = cli(database_url, "cadre", "add", "sim:c1", "--name", "李书记", "--role", "village",
               "--area", "青岩/歪脚村")
    assert done.returncode == 0, done.stderr
    assert "已添加" in done.stdout
    invite = cli(database_url, "cadre", "invite", "--name", "张镇长", "--role", "township",
                 "--area", "孟关")
    assert invite.returncode == 0, invite.stderr
    code = re.search(r"/绑定 (\w+)", invite.stdout).group(1)
    async with BotDriver(settings) as bot:
        helped = await bot.ask("c1", "/帮助")
        assert "村/社区干部" in helped and "青岩镇歪脚村" in helped
        bound = await bot.ask("c2", f"/绑定 {code.lower()}")
        assert "绑定成功" in bound and "孟关苗族布依族乡" in bound
        assert "用过" in await bot.ask("c3", f"/绑定 {code}")
        group = await bot.say("c3", f"/绑定 {code}", chat="group:g1")
        assert "私聊" in group[0]["text"]


def test_cadre_add_rejects_bad_input(database_url):
    missing = cli(database_url, "cadre", "add", "sim:c1", "--name", "李", "--role", "village")
    assert missing.returncode == 2 and "--area" in missing.stderr
    bad_area = cli(database_url, "cadre", "add", "sim:c1", "--name", "李", "--role", "township",
                   "--area", "火星镇")
    assert bad_area.returncode == 2 and "Traceback" not in bad_area.stderr
    bad_id = cli(database_url, "cadre", "add", "c1", "--name", "李", "--role", "district")
    assert bad_id.returncode == 2 and "平台:账号" in bad_id.stderr


async def test_invite_expires_after_a_week_and_guessing_is_limited(settings):
    from datetime import timedelta

    from models.cadres import create_invite

    async with BotDriver(settings) as bot:
        now = bot.app.clock.utcnow()
        async with bot.app.db.session() as s:
            old = await create_invite(s, "王村长", "village", "青岩镇", "歪脚村",
                                      now - timedelta(days=8))
            fresh = await create_invite(s, "李村长", "village", "青岩镇", "歪脚村",
                                        now - timedelta(days=6))
        assert "过期" in await bot.ask("c1", f"/绑定 {old}")
        for _ in range(4):
            assert "不对" in await bot.ask("c1", "/绑定 ABCDEFGH")
        refused = await bot.ask("c1", f"/绑定 {fresh}")  # the sixth try of the day
        assert "次数太多" in refused and "绑定成功" not in refused
        assert "绑定成功" in await bot.ask("c2", f"/绑定 {fresh}")  # another account may
        await bot.feed({"clock": (now + timedelta(days=1, minutes=1)).isoformat()})
        assert "用过" in await bot.ask("c1", f"/绑定 {fresh}")  # the next day: tries again


async def test_cadre_list_and_remove(settings, database_url):
    assert cli(database_url, "cadre", "add", "sim:c1", "--name", "李书记", "--role", "village",
               "--area", "青岩/歪脚村").returncode == 0
    assert cli(database_url, "cadre", "add", "sim:c2", "--name", "赵专班", "--role",
               "district").returncode == 0
    listed = cli(database_url, "cadre", "list")
    assert listed.returncode == 0
    assert "sim:c1\t李书记\t村/社区干部\t青岩镇歪脚村" in listed.stdout
    assert "sim:c2\t赵专班\t区专班\t全区" in listed.stdout
    removed = cli(database_url, "cadre", "remove", "sim:c1")
    assert removed.returncode == 0 and "已停用：李书记" in removed.stdout
    assert "（已停用）" in cli(database_url, "cadre", "list").stdout
    unknown = cli(database_url, "cadre", "remove", "sim:nobody")
    assert unknown.returncode == 2 and "没有这个工作人员" in unknown.stderr
    async with BotDriver(settings) as bot:
        assert "工作人员" in await bot.ask("c1", "/名单 待就业")  # told it is for staff
        assert "村/社区干部" not in await bot.ask("c1", "/帮助")
        assert "区专班" in await bot.ask("c2", "/帮助")
