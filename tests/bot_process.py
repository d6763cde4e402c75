"""Run the real bot (``python -m bot``) as a child process against a OneBot stand-in.

Used by the kill -9 test and by ``benchmarks/load.py`` (nothing here depends on pytest).  The
child runs in an empty working directory (so no ``.env`` of the developer's is read) with only
the settings given here, QQ through a forward WebSocket to ``onebot_url`` and no simulator.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bot_env(database_url: str, onebot_url: str, token: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ONEBOT_", "WECHATY_", "SEND_", "SIMULATOR", "DATABASE_URL"))}
    env.update({
        "DATABASE_URL": database_url,
        "ONEBOT_WS_URL": onebot_url,
        "ONEBOT_ACCESS_TOKEN": token,
        "SIMULATOR": "off",
        "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


class BotProcess:
    """``python -m bot`` in a child process; :meth:`kill` is a real SIGKILL."""

    def __init__(self, env: dict[str, str], log_path: Path | None = None) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self._cwd = tempfile.mkdtemp(prefix="fgt-bot-")
        self._log = None

    async def start(self) -> None:
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: ASYNC230
        self.started_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self._cwd, env=self.env,
            stdout=self._log or asyncio.subprocess.DEVNULL,
            stderr=self._log or asyncio.subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def peak_rss_mb(self) -> float | None:
        """The child's peak resident set size so far (VmHWM), in MiB; None once it is gone."""
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def kill_now(self) -> None:
        """SIGKILL, synchronously (usable from inside a stand-in callback)."""
        if self.proc is not None and self.proc.returncode is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    async def kill(self) -> None:
        self.kill_now()
        await self.wait()

    async def stop(self, within: float = 15.0) -> int | None:
        """SIGTERM (the bot's orderly stop), SIGKILL if it takes longer than ``within``."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), within)
            except TimeoutError:
                self.kill_now()
        return await self.wait()

    async def wait(self) -> int | None:
        if self.proc is None:
            return None
        code = await self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return code
