"""Linking a second chat account (say QQ after WeChat) to a worker already registered.

A person proves it is them with both their ID number and their phone, as registered; then the
new account is linked and nothing has to be entered again.
"""

from __future__ import annotations

from sqlalchemy import select

from dialogs.engine import Answers, Dialog, Step
from dialogs.parsing.idcard import mask_id
from dialogs.parsing.phone import mask_phone
from dialogs.registration import parse_id, parse_mobile
from models.tables import Worker
from models.workers import link_identity

TRIES = 3


async def finish(ctx, answers: Answers, state) -> str:
    worker = (
        await ctx.session.execute(
            select(Worker).where(
                Worker.id_number == answers["id_number"], Worker.phone == answers["phone"]
            )
        )
    ).scalar()
    if worker is None:
        return ("没有找到这个身份证号和手机号都对得上的登记。请核对后回复“关联”再试，"
                "或回复“登记”重新登记。")
    await link_identity(ctx, state.identity, worker.id,
                        ctx.inbound.sender_name if ctx.inbound else "")
    return f"关联成功！{worker.name}，以后在这里也能收到通知、打卡和找工作。回复“我的信息”可查看登记内容。"


LINK = Dialog(
    name="link_account",
    title="关联账号",
    confirm=False,
    finish=finish,
    steps=(
        Step("id_number", "身份证号", "请输入您登记时用的身份证号（18位）：", parse_id,
             show=mask_id),  # shown again (masked) after 返回
        Step("phone", "手机号", "请输入您登记时留的手机号：", parse_mobile, show=mask_phone),
    ),
)
DIALOGS = [LINK]
