"""注销: a worker asks for their data to be deleted.

``注销`` (or 删除我的信息…) explains what will be deleted and asks for ``确认注销``; only that
phrase deletes.  Both work in private chat at any time, also in the middle of a dialog (the
dialog is left as it was when the person only asks).  The deletion itself is
:func:`models.erase.erase_person`, in this message's transaction, together with the reply.
"""

from __future__ import annotations

import re

from handlers.context import Context
from handlers.keywords import keyword
from models.complaints import complaints_of
from models.dialog_states import load_state
from models.erase import erase_person
from models.workers import worker_of

ASK_WORDS = (r"(?:我要|我想|申请|请)?(?:注销|注销登记|注销账号|注销信息|删除我的信息|删除我的资料"
             r"|删除我的登记|删除信息|删除登记)(?:吧|了)?")
CONFIRM_WORDS = r"确认注销|确定注销|确认删除|确定删除"

DELETED_ITEMS = (
    "登记信息（姓名、身份证号、手机号、住址、家庭、健康和就业情况）、每日打卡记录、"
    "岗位报名和推送记录、包车报名（座位会让出来），以及关联的微信/QQ账号"
)


@keyword(ASK_WORDS, help="· 回复“注销”：删除您在这里登记的全部信息", anywhere=True)
async def ask_to_erase(ctx: Context, match: re.Match[str]) -> None:
    worker = await worker_of(ctx, ctx.identity)
    state = await load_state(ctx.session, ctx.identity)
    complaints = await complaints_of(ctx.session, ctx.identity, worker.id if worker else None)
    also = (f"您的投诉（{len(complaints)}件）和工作人员的回复也会删除，没结案的投诉就不能再回复您了。"
            if worker is not None and complaints else "")
    if worker is not None:
        ctx.reply(
            f"注销后会删除您在返岗通的全部个人信息：{DELETED_ITEMS}。{also}"
            "删除后不能恢复，以后需要服务可以重新登记。\n"
            "工作人员已经导出保存在自己电脑上的表格不在系统里，如需删除请联系村里。\n"
            "确定要注销，请回复“确认注销”；不注销就不用回复，什么都不会改。"
        )
    elif complaints:
        ctx.reply(
            f"您还没有登记，系统里有您的投诉记录（{len(complaints)}件）"
            f"{'和没填完的内容' if state is not None else ''}。注销会删除这些投诉和工作人员的回复，"
            "没结案的投诉就不能再回复您了。\n"
            "确定要删除，请回复“确认注销”；不删除就不用回复。"
        )
    elif state is not None:
        ctx.reply(
            "您还没有登记完成，系统里只有您没填完的登记内容。"
            "确定要删除，请回复“确认注销”；不删除就不用回复。"
        )
    else:
        ctx.reply("您还没有登记，系统里没有您的个人信息，不需要注销。")


@keyword(CONFIRM_WORDS, anywhere=True)
async def confirm_erase(ctx: Context, match: re.Match[str]) -> None:
    erasure = await erase_person(ctx.session, ctx.identity, at=ctx.services.clock.utcnow())
    if erasure.worker_id is not None:
        ctx.reply(
            f"已注销。您的登记信息、打卡、报名、包车{'、投诉' if erasure.counts.get('complaint') else ''}"
            "等记录都已删除，关联的微信/QQ账号也已解除。\n"
            "谢谢您！以后需要找工作、安排返岗，回复“登记”可以重新登记。"
        )
    elif erasure.counts.get("complaint"):
        ctx.reply("已删除您的投诉记录，系统里没有您的个人信息了。以后还需要投诉，回复“投诉”就可以。")
    elif erasure.anything:
        ctx.reply("已删除您没填完的登记内容，系统里没有您的个人信息了。以后想登记，回复“登记”就可以。")
    else:
        ctx.reply("系统里没有您的个人信息，不需要注销。")
