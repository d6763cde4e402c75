"""Settings read from the environment (and ``.env``), with the defaults DESIGN.md promises.

Every variable here is listed, with a Chinese comment, in ``.env.example``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dotenv import load_dotenv

from bot.messages import ChatRef

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/bot.db"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_TOWNSHIPS_CSV = PACKAGE_DIR / "data" / "huaxi_townships.csv"
DEFAULT_LABOUR_CSV = PACKAGE_DIR / "data" / "village_labour.csv"  # 各村劳动力人数 (LABOUR_CSV)


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message says which and why (in Chinese)."""


def _time(name: str, value: str) -> time:
    try:
        hour, minute = value.strip().split(":")
        return time(int(hour), int(minute))
    except ValueError as exc:
        raise ConfigError(f"{name} 应写成 时:分，例如 08:00，现在是 {value!r}") from exc


def _groups(name: str, value: str) -> tuple[ChatRef, ...]:
    groups: list[ChatRef] = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            raise ConfigError(f"{name} 中的 {part!r} 应写成 平台:群号，例如 qq:123456")
        groups.append(ChatRef.group(part))
    return tuple(groups)


def _list(value: str) -> tuple[str, ...]:
    """Items separated by ``;``, ``；`` or new lines (hospital names contain commas)."""
    return tuple(p.strip() for p in re.split(r"[;；\n]", value) if p.strip())


# Where a worker with fever or a cough is sent for a nucleic-acid test (DESIGNATED_HOSPITALS).
DEFAULT_HOSPITALS = (
    "花溪区人民医院（花溪区清溪路）",
    "贵州医科大学附属医院发热门诊（云岩区贵医街28号）",
)


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ConfigError(f"{name} 应是 {low} 到 {high} 之间的整数，现在是 {value!r}")
    return number


def _rate(name: str, value: str) -> float:
    """A share: ``0.6`` or ``60%``."""
    text = value.strip()
    try:
        rate = float(text[:-1]) / 100 if text.endswith(("%", "％")) else float(text)
    except ValueError:
        rate = None
    if rate is None or not 0 <= rate <= 1:
        raise ConfigError(f"{name} 应写成 0 到 1 之间的小数或百分数，例如 0.6 或 60%，现在是 {value!r}")
    return rate


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("off", "0", "false", "no", "否", "关")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    tz_name: str = "Asia/Shanghai"
    district_name: str = "花溪区"
    townships_csv: Path = DEFAULT_TOWNSHIPS_CSV
    onebot_ws_url: str = ""
    onebot_access_token: str = ""
    onebot_reverse_ws: str = ""
    wechaty_endpoint: str = ""
    wechaty_token: str = ""
    wechat_accept_friends: bool = True
    taskforce_groups: tuple[ChatRef, ...] = ()
    job_groups: tuple[ChatRef, ...] = ()
    checkin_time: time = time(8, 0)
    checkin_remind_time: time = time(14, 0)
    report_time: time = time(17, 30)
    designated_hospitals: tuple[str, ...] = DEFAULT_HOSPITALS
    target_date: date | None = None
    send_rate_per_min: int = 20
    send_chat_gap: float = 1.0  # seconds between two messages to the same chat
    simulator: bool = True
    simulator_host: str = "127.0.0.1"
    simulator_port: int = 8080
    # 错峰出行 (scheduler/stagger.py)
    stagger_time: time = time(9, 30)
    stagger_days: int = 14  # look this many days ahead
    stagger_threshold: int = 10  # workers of one township to one place on one day
    stagger_spread_days: int = 2  # spread over the day ± this many days
    bus_suggest_min: int = 20  # this many to one place within a few days: suggest /包车
    # 需关注的村 (scheduler/lagging.py)
    lag_checkin_rate: float = 0.6
    lag_survey_rate: float = 0.8
    lag_remind_minutes: int = 30  # reminder to the villages' cadres this long before REPORT_TIME
    labour_csv: Path = DEFAULT_LABOUR_CSV
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: bool = True) -> Settings:
        """Read settings from ``env`` (default: ``os.environ`` after loading ``.env``)."""
        if env is None:
            if dotenv:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        tz_name = get("TZ_NAME", "Asia/Shanghai")
        try:
            ZoneInfo(tz_name)
        except Exception as exc:  # ZoneInfoNotFoundError or ValueError
            raise ConfigError(f"TZ_NAME={tz_name!r} 不是有效的时区，例如 Asia/Shanghai") from exc
        target = get("TARGET_DATE")
        try:
            target_date = date.fromisoformat(target) if target else None
        except ValueError as exc:
            raise ConfigError(f"TARGET_DATE 应写成 2024-03-31 这样的日期，现在是 {target!r}") from exc
        try:
            rate = int(get("SEND_RATE_PER_MIN", "20"))
            gap = float(get("SEND_CHAT_GAP_SECONDS", "1"))
            port = int(get("SIMULATOR_PORT", "8080"))
        except ValueError as exc:
            raise ConfigError(
                "SEND_RATE_PER_MIN、SIMULATOR_PORT 应是整数，SEND_CHAT_GAP_SECONDS 应是数字"
            ) from exc
        csv = get("TOWNSHIPS_CSV")
        labour = get("LABOUR_CSV")
        return cls(
            database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL),
            tz_name=tz_name,
            district_name=get("DISTRICT_NAME", "花溪区"),
            townships_csv=Path(csv) if csv else DEFAULT_TOWNSHIPS_CSV,
            onebot_ws_url=get("ONEBOT_WS_URL"),
            onebot_access_token=get("ONEBOT_ACCESS_TOKEN"),
            onebot_reverse_ws=get("ONEBOT_REVERSE_WS"),
            wechaty_endpoint=get("WECHATY_PUPPET_SERVICE_ENDPOINT"),
            wechaty_token=get("WECHATY_PUPPET_SERVICE_TOKEN"),
            wechat_accept_friends=_flag(get("WECHAT_ACCEPT_FRIENDS", "on")),
            taskforce_groups=_groups("TASKFORCE_GROUPS", get("TASKFORCE_GROUPS")),
            job_groups=_groups("JOB_GROUPS", get("JOB_GROUPS")),
            checkin_time=_time("CHECKIN_TIME", get("CHECKIN_TIME", "08:00")),
            checkin_remind_time=_time("CHECKIN_REMIND_TIME", get("CHECKIN_REMIND_TIME", "14:00")),
            report_time=_time("REPORT_TIME", get("REPORT_TIME", "17:30")),
            designated_hospitals=_list(get("DESIGNATED_HOSPITALS")) or DEFAULT_HOSPITALS,
            target_date=target_date,
            send_rate_per_min=rate,
            send_chat_gap=gap,
            simulator=_flag(get("SIMULATOR", "on")),
            simulator_host=get("SIMULATOR_HOST", "127.0.0.1"),
            simulator_port=port,
            stagger_time=_time("STAGGER_TIME", get("STAGGER_TIME", "09:30")),
            stagger_days=_int("STAGGER_DAYS", get("STAGGER_DAYS", "14"), 1, 60),
            stagger_threshold=_int("STAGGER_THRESHOLD", get("STAGGER_THRESHOLD", "10"), 2, 10000),
            stagger_spread_days=_int("STAGGER_SPREAD_DAYS", get("STAGGER_SPREAD_DAYS", "2"), 1, 7),
            bus_suggest_min=_int("BUS_SUGGEST_MIN", get("BUS_SUGGEST_MIN", "20"), 2, 10000),
            lag_checkin_rate=_rate("LAG_CHECKIN_RATE", get("LAG_CHECKIN_RATE", "0.6")),
            lag_survey_rate=_rate("LAG_SURVEY_RATE", get("LAG_SURVEY_RATE", "0.8")),
            lag_remind_minutes=_int("LAG_REMIND_MINUTES", get("LAG_REMIND_MINUTES", "30"), 0, 720),
            labour_csv=Path(labour) if labour else DEFAULT_LABOUR_CSV,
        )


def data_folder(settings: Any, name: str, key: str) -> Path:
    """Where the bot keeps files of one kind (``exports``, ``charts``): ``key`` in the settings'
    extras if set, else a folder ``name`` beside the SQLite file, else ``data/<name>``.  Not
    created here."""
    from sqlalchemy.engine import make_url

    configured = (getattr(settings, "extra", None) or {}).get(key)
    if configured:
        return Path(configured)
    url = make_url(settings.database_url)
    db = url.database or ""
    if url.get_backend_name() == "sqlite" and db and db != ":memory:":
        return Path(db).parent / name
    return Path("data") / name
