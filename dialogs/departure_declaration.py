"""The health declaration before leaving (出发前健康申报), declared as data: four short questions,
then a summary to confirm.  The day before a departure the bot begins it after the prevention
handbook (scheduler/departure.py); a worker can also begin it with “健康申报”.

Temperature and symptoms are read by the daily check-in's reader
(:func:`dialogs.checkin_text.parse_checkin`), so ``36度5``, ``三十七度二``, ``没有发烧不咳嗽`` mean the
same here as there.  Abnormal, as for the check-in: 37.3 ℃ or more, or 发热/咳嗽/气促/乏力 in the
last 14 days — and here also contact with a confirmed or suspected case.  What happens then is
in :func:`handlers.departure.declared`.
"""

from __future__ import annotations

import re
from typing import Any

from dialogs.checkin_text import FEVER_AT, KEY_SYMPTOMS, parse_checkin
from dialogs.engine import Answers, Dialog, ParseEnv, Step
from dialogs.parsing.choices import parse_yes_no
from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import normalize
from dialogs.registration import RETURN_MODE
from models.departure import DECLARATION

NOT_MEASURED = "未测"
_NOT_MEASURED = re.compile(r"没量|没测|未测|没有量|没有测|没体温计|没有体温计|没得体温计|不知道")
# “咳了两天，现在好了”: the reader hears a denial of today's cough; over 14 days it was a cough.
_RECOVERED = re.compile(r"好了|好啦|好转|退了|退烧了|康复|痊愈|已经不")
TEMPERATURE_ASK = "请回复量到的体温，例如：36.5。没有体温计、没量的，请回复“没量”。"
SYMPTOMS_ASK = ("请说说最近14天有没有不舒服，例如：“没有”“咳嗽”“前几天发烧，现在好了”。")


def parse_temperature(text: str, env: ParseEnv) -> float | str:
    if _NOT_MEASURED.search(normalize(text)):
        return NOT_MEASURED
    try:
        reading = parse_checkin(text)
    except ParseError as err:
        raise ParseError(err.hint if "体温" in err.hint and "36.5 正常" not in err.hint
                         else f"没看懂。{TEMPERATURE_ASK}") from None
    if reading.temperature is None:
        raise ParseError(f"这一题问的是体温。{TEMPERATURE_ASK}（不舒服的情况下一题再说）")
    return reading.temperature


def show_temperature(value: float | str | None) -> str:
    return f"{value:.1f}℃" if isinstance(value, (int, float)) else "没量"


def parse_symptoms(text: str, env: ParseEnv) -> list[str]:
    try:
        reading = parse_checkin(text)
    except ParseError:
        raise ParseError(f"没看懂。{SYMPTOMS_ASK}") from None
    had = list(reading.symptoms)
    if reading.denied and _RECOVERED.search(normalize(text)):
        had += [s for s in reading.denied if s not in had]
    if had:
        return had
    if reading.all_normal or reading.denied:
        return []
    raise ParseError(f"没看懂。{SYMPTOMS_ASK}")


def show_symptoms(value: list[str]) -> str:
    return "、".join("其他不适" if s == "其他" else s for s in value) or "没有"


def parse_contact(text: str, env: ParseEnv) -> bool:
    try:
        return parse_yes_no(text)
    except ParseError:
        raise ParseError("请回复“有”或“没有”。") from None


def show_contact(value: bool) -> str:
    return "有" if value else "没有"


def is_abnormal(answers: Answers) -> bool:
    temperature = answers.get("temperature")
    hot = isinstance(temperature, (int, float)) and temperature >= FEVER_AT
    return bool(hot or KEY_SYMPTOMS & set(answers.get("symptoms") or [])
                or answers.get("contact"))


def reasons(answers: Answers) -> list[str]:
    """Why a declaration is abnormal, in words for the worker and the cadres."""
    found = []
    temperature = answers.get("temperature")
    if isinstance(temperature, (int, float)) and temperature >= FEVER_AT:
        found.append(f"今天体温{temperature:.1f}℃")
    key = [s for s in answers.get("symptoms") or [] if s in KEY_SYMPTOMS]
    if key:
        found.append(f"最近14天有{'、'.join(key)}")
    if answers.get("contact"):
        found.append("接触过确诊或疑似病人")
    return found


async def finish(ctx: Any, answers: Answers, state: Any) -> str:
    from handlers.departure import declared

    return await declared(ctx, answers, state)


DEPARTURE_DECLARATION = Dialog(
    name=DECLARATION,
    title="出发前健康申报",
    summary_intro="请核对您的出发前健康申报：",
    cancel_text="好的，健康申报先停在这里，填了的都保留着。出发前请回复“继续”填完。",
    finish=finish,
    steps=(
        Step("temperature", "今天体温", "今天量的体温是多少？（例如：36.5）", parse_temperature,
             show=show_temperature,
             help="用体温计量一下，把度数告诉我，例如 36.5。没有体温计请回复“没量”。"),
        Step("symptoms", "最近14天的不舒服",
             "最近14天，有没有发热、咳嗽、气促（喘不上气）、乏力、嗓子疼、拉肚子这些不舒服？"
             "都没有请回复“没有”。", parse_symptoms, show=show_symptoms),
        Step("contact", "接触确诊或疑似病人",
             "最近14天，有没有接触过新冠肺炎确诊或疑似的病人？（回复“有”或“没有”）", parse_contact,
             show=show_contact),
        Step("travel_mode", "出行方式", "这次怎么去上班的地方？", options=RETURN_MODE),
    ),
)
DIALOGS = [DEPARTURE_DECLARATION]
