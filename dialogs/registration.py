"""The registration dialog (摸排登记), read top to bottom.

One question per message.  Branches follow the employment status: waiting to return, already
back or employed locally, or without a job.  See DESIGN.md, "What the worker is asked".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dialogs.engine import Answers, Dialog, ParseEnv, Step
from dialogs.parsing.choices import Option, parse_yes_no
from dialogs.parsing.dates import parse_date
from dialogs.parsing.errors import ParseError
from dialogs.parsing.idcard import mask_id, parse_id_number
from dialogs.parsing.names import parse_free_text, parse_person_name, parse_salary
from dialogs.parsing.phone import mask_phone, parse_phone
from dialogs.parsing.places import parse_group, parse_village
from dialogs.parsing.textnorm import normalize

# ----- value sets ------------------------------------------------------------------------------
WAITING, RETURNED, LOCAL, JOBLESS = "待返岗", "已返岗", "本地已就业", "暂无岗位"
STATUS = (
    Option(WAITING, "已有岗位，等待返岗", ("待返岗", "有岗位", "有工作还没去", "等返岗", "还没回去")),
    Option(RETURNED, "已经返岗", ("已返岗", "已经回去上班", "已复工", "已经出去了", "在上班")),
    Option(LOCAL, "在本地已就业", ("本地就业", "本地上班", "在家附近上班", "本地")),
    Option(JOBLESS, "暂时没有岗位", ("暂无岗位", "没有工作", "没工作", "找工作", "失业", "没有岗位")),
)
AREA = (
    Option("县内", "花溪区内（县内）", ("县内", "区内", "花溪", "本区", "花溪区")),
    Option("省内县外", "贵州省内、花溪区外", ("省内县外", "省内", "贵州", "贵阳", "贵州省内")),
    Option("省外", "贵州省外", ("省外", "外省", "出省")),
)
RETURN_MODE = (
    Option("自行返岗", "自行返岗（坐班车、拼车等）", ("自行", "自己走", "自己回去", "坐班车", "拼车")),
    Option("自驾", "自己开车", ("自驾", "开车", "自己开车")),
    Option("包车点对点", "政府包车点对点", ("包车", "点对点", "包车点对点", "政府包车")),
    Option("火车", "火车/高铁", ("火车", "高铁", "动车")),
    Option("飞机", "飞机", ("飞机", "坐飞机")),
    Option("其他", "其他", ("其它",)),
)
INTENT = (
    Option("就近就业", "就近就业（在家附近找工作）", ("就近", "在家附近", "本地", "附近")),
    Option("外出务工", "外出务工", ("外出", "出去打工", "去外地", "打工")),
    Option("暂不就业", "暂不就业", ("不找", "暂时不找", "不想找", "不工作", "在家")),
)
CATEGORY = (
    Option("建档立卡贫困劳动力", "建档立卡贫困劳动力", ("建档立卡", "贫困户", "贫困")),
    Option("易地扶贫搬迁劳动力", "易地扶贫搬迁劳动力", ("易地扶贫搬迁", "易地搬迁", "搬迁", "移民搬迁")),
    Option("其他", "都不是", ("其他", "其它", "都不是", "不是", "普通", "无", "没有")),
)
HEALTH = (
    Option("健康", "身体健康", ("健康", "良好", "好", "正常", "没病", "很好")),
    Option("慢性病", "有慢性病", ("慢性病", "高血压", "糖尿病", "有病")),
    Option("残疾", "有残疾", ("残疾", "残疾人")),
    Option("其他", "其他情况", ("其它",)),
)
SYMPTOMS = (
    Option("无", "没有不舒服", ("没有", "无", "都没有", "正常", "无症状", "没", "好的", "很好")),
    Option("发热", "发热", ("发烧", "低烧", "高烧", "体温高")),
    Option("咳嗽", "咳嗽", ("咳", "干咳")),
    Option("气促", "气促（喘不上气、胸闷）", ("喘", "喘不上气", "胸闷", "呼吸困难", "气短")),
    Option("乏力", "乏力（没力气）", ("没力气", "浑身无力", "无力", "累")),
    Option("咽痛", "咽痛（嗓子疼）", ("嗓子疼", "喉咙痛", "嗓子痛", "喉咙疼")),
    Option("腹泻", "腹泻", ("拉肚子", "拉稀")),
    Option("其他", "其他不舒服", ("其它",)),
)
RELATION = (
    Option("配偶", "配偶", ("老婆", "老公", "妻子", "丈夫", "爱人", "媳妇")),
    Option("子女", "子女", ("儿子", "女儿", "孩子", "儿媳", "女婿")),
    Option("父母", "父母", ("父亲", "母亲", "爸爸", "妈妈", "爸", "妈")),
    Option("兄弟姐妹", "兄弟姐妹", ("哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹")),
    Option("孙子女", "孙子女", ("孙子", "孙女")),
    Option("其他", "其他亲属", ("其它", "亲戚")),
)
SELF = "本人"
SELF_WORDS = ("本人", "我", "我自己", "自己", "是我", "我是户主", "户主是我", "就是我", "是", "是的",
              "我是", "我就是", "我就是户主", "户主就是我", "本人就是")


# ----- parsers that need more than one field ---------------------------------------------------
def parse_consent(text: str, env: ParseEnv) -> bool:
    return parse_yes_no(text)


def parse_id(text: str, env: ParseEnv) -> str:
    return parse_id_number(text, env.today).number


def parse_mobile(text: str, env: ParseEnv) -> str:
    return parse_phone(text)


def parse_township(text: str, env: ParseEnv) -> str:
    return env.ctx.services.townships.match(text).name


def parse_head(text: str, env: ParseEnv) -> str:
    """The head's name, or 本人 (kept as a word, so a corrected name stays the head)."""
    if normalize(text).rstrip("。.！!") in SELF_WORDS:
        return SELF
    name = parse_person_name(text)
    return SELF if name == env.answers.get("name") else name


def is_head(a: Answers) -> bool:
    return a.get("head_name") in (SELF, a.get("name"))


NO_DIFFICULTY = ("没有", "无", "没", "否", "不需要", "不用", "没困难", "没有困难", "都没有", "没得",
                 "没有的", "暂时没有", "还好", "不用了", "没有啥", "没啥")


YES_DIFFICULTY = ("有", "是", "是的", "有的", "有困难", "需要", "需要帮扶", "有的有", "对")


def parse_difficulty(text: str, env: ParseEnv) -> str:
    """"没有" is no difficulty, but "没有劳动力" is one: only a plain no counts as none."""
    bare = normalize(text).strip("。.，,！!~ ")
    if bare in NO_DIFFICULTY or bare.lower() in ("2", "n", "no"):
        return "无"
    # 1 (the question's “有”) or a bare yes says there is one, not what it is: ask.
    if bare.lower() in ("1", "y", "yes") or bare in YES_DIFFICULTY:
        raise ParseError("请简单说一下是什么困难，例如：家里有老人需要照顾、缺少路费。")
    return parse_free_text(text, 200)


def parse_return_date(text: str, env: ParseEnv) -> str:
    when = parse_date(text, env.today)
    if when < env.today:
        raise ParseError(f"{when.month}月{when.day}日已经过去了。请回复打算哪天返岗，例如“2月15日”"
                         "或“下周一”；如果已经返岗，请回复“返回”改就业状态。")
    return when.isoformat()


def parse_salary_range(text: str, env: ParseEnv) -> list[int | None]:
    low, high = parse_salary(text)
    return [low, high]


def text_of(limit: int):
    def parse(text: str, env: ParseEnv) -> str:
        return parse_free_text(text, limit)

    return parse


def parse_wanted_job(text: str, env: ParseEnv) -> str:
    hint = "请写想做的工作，例如：普工、电焊、保洁、司机；什么都可以就回复“不限”。"
    answer = parse_free_text(text, 60, hint=hint)
    bare = answer.strip("。.！! ").lower()
    if any(ch.isdigit() for ch in bare) and parse_salary_or_none(bare) is not None:
        raise ParseError("这一题请写想做的工作，例如：普工、电焊、保洁、司机；月薪在后面一题填。")
    return answer


def parse_wanted_place(text: str, env: ParseEnv) -> str:
    hint = "请写希望在哪里工作，例如：花溪区内、贵阳市、广东；哪里都行就回复“不限”。"
    answer = parse_free_text(text, 30, hint=hint)
    if answer.strip("。.！! ").isdigit():
        raise ParseError(hint)
    return answer


def parse_salary_or_none(text: str) -> Any:
    try:
        return parse_salary(text)
    except ParseError:
        return None


def name_of(text: str, env: ParseEnv) -> str:
    return parse_person_name(text)


def village_of(text: str, env: ParseEnv) -> str:
    return parse_village(text)


def group_of(text: str, env: ParseEnv) -> str:
    return parse_group(text)


# ----- how values read in the summary ----------------------------------------------------------
def show_date(value: str) -> str:
    d = date.fromisoformat(value)
    return f"{d.year}年{d.month}月{d.day}日"


def show_salary(value: list[int | None]) -> str:
    low, high = value
    if low is None and high is None:
        return "面议/不限"
    if high is None:
        return f"{low}元以上"
    if low is None:
        return f"{high}元以下"
    return f"{low}元" if low == high else f"{low}–{high}元"


def employed(a: Answers) -> bool:
    return a.get("status") in (WAITING, RETURNED, LOCAL)


def away(a: Answers) -> bool:
    return employed(a) and a.get("work_area") in ("省内县外", "省外")


def seeking(a: Answers) -> bool:
    return a.get("status") == JOBLESS and a.get("intent") in ("就近就业", "外出务工")


def consent_stop(value: Any) -> str | None:
    if value:
        return None
    return "好的，不登记也没关系。以后想登记，随时回复“登记”就可以。"


def consent_prompt(a: Answers) -> str:
    return (
        "您好！这里是返岗通，帮助在家的务工人员登记就业意愿、对接岗位、安排返岗。\n"
        "登记会问您的姓名、身份证号、手机号、住址、健康和就业情况，只用于本区务工人员就业服务"
        "和疫情防控，只有负责您所在村镇的工作人员能看到，不会公开。\n"
        "（已经在别的微信或QQ上登记过的，回复“关联”就行，不用重填。）\n"
        "同意登记吗？"
    )


# ----- the dialog ------------------------------------------------------------------------------
STEPS: tuple[Step, ...] = (
    Step("consent", "同意登记", consent_prompt, parse_consent,
         options=(Option("同意", "同意", ("好", "可以", "行")), Option("不同意", "不同意")),
         in_summary=False, stop=consent_stop),
    Step("name", "姓名", "请问您的姓名？", name_of, help="请填身份证上的名字，例如：王小明"),
    Step("id_number", "身份证号", "请输入您的身份证号（18位）：", parse_id, show=mask_id,
         help="18位，最后一位可能是X，例如：52011119900101123X"),
    Step("phone", "手机号", "请输入您的手机号：", parse_mobile, show=mask_phone),
    Step("township", "乡镇/街道", "您家在哪个乡镇或街道？（例如：青岩镇、贵筑街道）",
         parse_township, help="写乡镇名字就行，例如“青岩”“孟关”，也可以回复编号"),
    Step("village", "村/社区", "哪个村或社区？（例如：歪脚村）", village_of),
    Step("group", "组", "哪个组？（例如：3组）", group_of, optional=True),
    Step("head_name", "户主姓名", "户主叫什么名字？（您自己是户主就回复“本人”）", parse_head),
    Step("relation", "与户主关系", "您和户主是什么关系？", options=RELATION,
         when=lambda a: not is_head(a)),
    Step("category", "人员类别", "您属于下面哪类人员？", options=CATEGORY, multi=True),
    Step("health", "健康状况", "您的身体状况？", options=HEALTH),
    Step("symptoms", "近期症状", "最近有没有下面这些不舒服？", options=SYMPTOMS, multi=True),
    Step("difficulty", "家庭困难", "家里有没有困难需要帮扶？\n1. 有（请直接简单说说是什么困难，"
         "例如：家里有老人需要照顾、缺少路费）\n2. 没有", parse_difficulty),
    Step("skills", "技能特长", "您有什么技能或证书？（例如：电焊、驾驶证C1、厨师）",
         text_of(100), optional=True),
    Step("experience", "务工经历", "以前在哪里做过什么工作？（例如：在东莞电子厂做过3年普工）",
         text_of(200), optional=True),
    Step("status", "就业状态", "您现在的就业情况是？", options=STATUS),
    # 已有岗位 / 已返岗 / 本地就业
    Step("work_area", "务工地点", "在哪里工作？", options=AREA, when=employed),
    Step("work_city", "务工城市", "具体在哪个城市？（例如：广东东莞）", text_of(30), when=away),
    Step("employer", "就业单位", "在哪个单位（公司、工厂）工作？", text_of(60), when=employed),
    Step("return_date", "返岗时间", "打算哪天返岗？（例如：2月15日、下周一、明天）",
         parse_return_date, show=show_date, when=lambda a: a.get("status") == WAITING),
    Step("return_mode", "返岗方式", "打算怎么去？", options=RETURN_MODE,
         when=lambda a: a.get("status") == WAITING),
    # 暂无岗位
    Step("intent", "就业意愿", "您接下来的打算是？", options=INTENT,
         when=lambda a: a.get("status") == JOBLESS),
    Step("wanted_job", "期望工种", "想找什么工作？（例如：普工、电焊、保洁、司机）",
         parse_wanted_job, when=seeking),
    Step("wanted_place", "期望地点", "希望在哪里工作？（例如：花溪区内、贵阳市、广东）",
         parse_wanted_place, when=seeking),
    Step("wanted_salary", "期望月薪", "期望月薪多少？（例如：4000、3000到5000、面议）",
         parse_salary_range, show=show_salary, optional=True, when=seeking),
)


async def finish(ctx, answers: Answers, state) -> str:
    from models.workers import save_registration

    worker, created = await save_registration(ctx, answers, state)
    if created:
        return (
            f"登记成功！谢谢您，{worker.name}。\n"
            "以后有合适的岗位会第一时间告诉您。需要看登记的内容请回复“我的信息”，"
            "需要修改请回复“登记”重新填写。"
        )
    return (
        f"已更新！{worker.name}，您的登记信息已经改好了。\n"
        "需要看登记的内容请回复“我的信息”。"
    )


REGISTRATION = Dialog(name="registration", title="登记", steps=STEPS, finish=finish)
