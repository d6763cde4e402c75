"""``python -m bot replay`` as a separate process: the contract other programs rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ids import make_id

ROOT = Path(__file__).resolve().parent.parent


def bot_process(database_url: str, *args: str, **env_extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SIMULATOR": "off", **env_extra}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT, env=env, text=True, encoding="utf-8",
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_replay_holds_a_conversation_turn_by_turn(database_url):
    proc = bot_process(database_url, "replay", "-")
    assert proc.stdin and proc.stdout

    def turn(line: dict, sync: int) -> list[dict]:
        proc.stdin.write(json.dumps(line, ensure_ascii=False) + "\n")
        proc.stdin.write(json.dumps({"sync": sync}) + "\n")
        proc.stdin.flush()
        out = []
        while True:  # must not block: replies are flushed before the next line is read
            got = json.loads(proc.stdout.readline())
            if got == {"sync": sync}:
                return out
            out.append(got)

    try:
        first = turn({"user": "u1", "chat": "private", "text": "登记",
                      "at": "2024-02-03T08:30"}, 1)
        assert first == [{"chat": "private", "to": "u1", "text": first[0]["text"]}]
        assert "同意" in first[0]["text"]
        assert "姓名" in turn({"user": "u1", "chat": "private", "text": "同意"}, 2)[0]["text"]
        assert "身份证" in turn({"user": "u1", "chat": "private", "text": "李四"}, 3)[0]["text"]
        group = turn({"user": "u2", "chat": "group:g1", "text": "这是什么", "name": "张三"}, 4)
        assert group[0]["chat"] == "group:g1" and "to" not in group[0]
        assert turn({"clock": "2024-02-03T17:30"}, 5) == []
        bad = turn({"user": "u1", "chat": "elsewhere", "text": "x"}, 6)
        assert "error" in bad[0]
        assert "手机号" in turn({"user": "u1", "text": make_id()}, 7)[0]["text"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 1  # one bad line was reported


def test_replay_file_prints_json_lines(database_url, tmp_path):
    script = tmp_path / "talk.jsonl"
    lines = [
        {"user": "u1", "chat": "private", "text": "你好", "at": "2024-02-03T08:30"},
        {"user": "u1", "chat": "private", "text": "同意"},
    ]
    script.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                      encoding="utf-8")
    proc = bot_process(database_url, "replay", str(script))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["to"] for r in rows] == ["u1", "u1"]
    assert "同意" in rows[0]["text"] and "姓名" in rows[1]["text"]


def test_replay_runs_on_the_day_the_script_names(database_url, tmp_path):
    """A script dated in the past runs on that day: its clock line posts that day's report, and
    a line that would move the clock backwards is reported instead of silently ignored."""
    script = tmp_path / "past.jsonl"
    lines = [
        {"user": "u1", "text": "你好", "at": "2024-02-03T08:30"},
        {"clock": "2024-02-03T17:31"},
        {"user": "u1", "text": "你好", "at": "2024-02-03T07:00"},
    ]
    script.write_text("# a day in 2024\n"
                      + "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                      encoding="utf-8")
    proc = bot_process(database_url, "replay", str(script), TASKFORCE_GROUPS="sim:g1",
                       REPORT_TIME="17:30")
    out, err = proc.communicate(timeout=60)
    rows = [json.loads(line) for line in out.splitlines()]
    reports = [r for r in rows if r.get("chat") == "group:g1"]
    assert len(reports) == 1 and "2月3日" in reports[0]["text"], rows
    assert "goes back in time" in rows[-1]["error"] and rows[-1]["error"].startswith("line 4")
    assert proc.returncode == 1, err


def test_replay_missing_file_is_a_clear_error(database_url):
    proc = bot_process(database_url, "replay", "/nonexistent/talk.jsonl")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "打不开文件" in err and "Traceback" not in err
