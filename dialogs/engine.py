"""A dialog engine for conversations declared as data.

A :class:`Dialog` is a list of :class:`Step` s read top to bottom; each step says what to ask,
how to understand the answer, whether it may be skipped and when it applies.  The engine keeps
one :class:`models.tables.DialogState` row per person and writes it after every answer, in the
same transaction as the reply, so a restart resumes at the same question and an answer is never
half taken.

Words understood at every question: 返回 (previous question), 跳过 (optional questions),
不变 (keep what was entered before), 取消 (pause, keeping everything), 继续 (ask again),
帮助, 重新开始.  After the last question a summary asks for 确认 or 修改 N.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from dialogs.parsing.choices import Option, match_choice, match_choices
from dialogs.parsing.errors import ParseError
from dialogs.parsing.textnorm import clean_text, normalize
from models.dialog_states import delete_state, load_state, save_state
from models.tables import DialogState

if TYPE_CHECKING:
    from handlers.context import Context

Answers = dict[str, Any]
CONFIRM = "__confirm__"
MAX_INPUT = 500


@dataclass(frozen=True)
class ParseEnv:
    """What a parser may need besides the text."""

    today: date
    answers: Answers
    ctx: Context


Parser = Callable[[str, ParseEnv], Any]


@dataclass(frozen=True)
class Step:
    key: str
    label: str  # the field's name in the summary, e.g. 姓名
    prompt: str | Callable[[Answers], str]
    parse: Parser | None = None  # default: the options (one, or several with ``multi``)
    options: tuple[Option, ...] = ()
    multi: bool = False
    optional: bool = False
    when: Callable[[Answers], bool] | None = None  # the step applies only if this is true
    show: Callable[[Any], str] | None = None  # how the value reads in the summary
    help: str = ""
    in_summary: bool = True
    stop: Callable[[Any], str | None] | None = None  # a message here ends the dialog

    def applies(self, answers: Answers) -> bool:
        return self.when is None or self.when(answers)

    def question(self, answers: Answers) -> str:
        text = self.prompt(answers) if callable(self.prompt) else self.prompt
        if self.options:
            listed = "\n".join(f"{i}. {o.label}" for i, o in enumerate(self.options, 1))
            how = "可回复多个编号，如“1 3”" if self.multi else "回复编号或文字"
            text = f"{text}\n{listed}\n（{how}）"
        if self.optional:
            text += "\n（可回复“跳过”）"
        return text

    def understand(self, text: str, env: ParseEnv) -> Any:
        if self.parse is not None:
            return self.parse(text, env)
        if self.multi:
            return [o.value for o in match_choices(text, self.options)]
        return match_choice(text, self.options).value

    def render(self, value: Any) -> str:
        if value is None:
            return "（未填）"
        if self.show is not None:
            return self.show(value)
        if isinstance(value, list):
            return "、".join(str(v) for v in value) or "（无）"
        return str(value)


@dataclass(frozen=True)
class Dialog:
    name: str
    title: str  # e.g. 摸排登记
    steps: tuple[Step, ...]
    finish: Callable[[Context, Answers, DialogState], Awaitable[str]]
    summary_intro: str = "请核对您填的信息："
    # What 取消 says; a function of the state when it depends on it (which record is edited).
    cancel_text: str | Callable[[DialogState], str] = ""
    confirm: bool = True  # False: finish right after the last answer, without a summary
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({s.key: i for i, s in enumerate(self.steps)})

    def step(self, key: str) -> Step:
        return self.steps[self._index[key]]

    def applicable(self, answers: Answers) -> list[Step]:
        return [s for s in self.steps if s.applies(answers)]

    def next_after(self, key: str | None, answers: Answers) -> str:
        start = -1 if key is None else self._index[key]
        for step in self.steps[start + 1 :]:
            if step.applies(answers):
                return step.key
        return CONFIRM

    def first_missing(self, answers: Answers) -> str:
        for step in self.steps:
            if step.applies(answers) and step.key not in answers:
                return step.key
        return CONFIRM

    def summary_steps(self, answers: Answers) -> list[Step]:
        return [s for s in self.applicable(answers) if s.in_summary]


def record_cancel_text(what: str, key: str, post: str, edit: str) -> Callable[[DialogState], str]:
    """What 取消 says in a dialog that posts a record (``what``: 岗位, 培训) with ``post`` or
    edits record ``state.data[key]`` with ``edit``: nothing is posted or changed yet, and how
    to go on."""

    def cancel_text(state: DialogState) -> str:
        record = (state.data or {}).get(key)
        if record is not None:
            return (f"好的，{what}{record}的修改先停在这里，{what}还没有改动。回复“继续”接着改，"
                    f"或重新发 {edit} {record}。")
        return f"好的，{what}先不发布，已填的内容保留着。回复“继续”接着填，或发 {post} 重新开始。"

    return cancel_text


# Words understood at every question, after punctuation is stripped.
WORDS: dict[str, tuple[str, ...]] = {
    "back": ("返回", "上一步", "上一题", "回上一题", "退回"),
    "skip": ("跳过", "不填", "略过", "下一题", "不想填", "没有"),
    "keep": ("不变", "不改", "保持不变", "同上"),
    "cancel": ("取消", "退出", "不填了", "暂停", "算了"),
    "resume": ("继续", "接着填", "继续登记"),
    "help": ("帮助", "怎么填", "说明", "?", "不会填", "不懂"),
    "restart": ("重新开始", "重新登记", "重填", "从头开始"),
    "confirm": ("确认", "确定", "是", "对", "没问题", "正确", "好", "好的", "提交", "确认无误"),
}
_PUNCT = re.compile(r"[\s，。！？!?,.、~～…]+")
_EDIT = re.compile(
    r"^(?:修改|改|更改|修正)\s*第?\s*(\d{1,2}|[一二三四五六七八九十两]{1,3})\s*(?:项|条|个|题)?$"
)


def _word(text: str) -> str | None:
    bare = _PUNCT.sub("", text)
    if not bare and text.strip() in ("?", "？"):
        return "help"
    for name, words in WORDS.items():
        if bare in words:
            return name
    return None


HELP_COMMON = (
    "填写时可以随时回复：\n"
    "“返回” 改上一题\n“跳过” 跳过可不填的题\n“取消” 先停下（已填的会保留）\n"
    "“继续” 接着填\n“重新开始” 从头再填"
)


class DialogEngine:
    def __init__(self, dialogs: Sequence[Dialog]) -> None:
        self.dialogs = {d.name: d for d in dialogs}

    # ----- state -------------------------------------------------------------------------
    async def load(self, ctx: Context, identity: str) -> DialogState | None:
        return await load_state(ctx.session, identity)

    def save(self, ctx: Context, state: DialogState) -> None:
        """Write ``state`` after a change (every change: it is not tracked)."""
        state.updated_at = ctx.services.clock.utcnow()
        save_state(ctx.session, state)

    async def discard(self, ctx: Context, state: DialogState) -> None:
        await delete_state(ctx.session, state.identity)

    # ----- entry points ------------------------------------------------------------------
    async def start(
        self, ctx: Context, identity: str, name: str, data: dict[str, Any] | None = None,
        intro: str = "", answers: Answers | None = None,
    ) -> None:
        """Begin ``name`` for ``identity`` (replacing any dialog in progress).  ``answers``:
        values already known, offered again at their question (“不变” keeps them).  Works
        without an inbound message too (a scheduled job starting a dialog)."""
        dialog = self.dialogs[name]
        state = await self.load(ctx, identity)
        now = ctx.services.clock.utcnow()
        if state is None:
            state = DialogState(identity=identity, dialog=name, step="", started_at=now,
                                updated_at=now)
        state.dialog, state.answers, state.history = name, dict(answers or {}), []
        state.editing, state.paused, state.data = False, False, dict(data or {})
        state.step = dialog.next_after(None, {})
        state.started_at = now
        self.save(ctx, state)
        self._ask(ctx, dialog, state, prefix=intro)

    async def open(
        self, ctx: Context, identity: str, name: str, answers: Answers, data: dict[str, Any],
        step: str,
    ) -> DialogState:
        """Set ``identity``'s dialog to ``name`` with ``answers`` already given, at ``step``
        (:data:`CONFIRM`: the summary, to edit a record); from a question, each answer goes on
        to the first question still unanswered, not to the next one in the list.  Asks nothing."""
        state = await self.load(ctx, identity)
        now = ctx.services.clock.utcnow()
        if state is None:
            state = DialogState(identity=identity, dialog=name, step=step, started_at=now,
                                updated_at=now)
        state.dialog, state.step, state.answers, state.history = name, step, answers, []
        state.editing, state.paused, state.data = step != CONFIRM, False, data
        state.started_at = now
        self.save(ctx, state)
        return state

    async def start_from_line(
        self, ctx: Context, name: str, answers: Answers, data: dict[str, Any],
        problems: Sequence[str] = (),
    ) -> None:
        """Begin ``name`` for the sender with the answers read from a one-line command
        (``/发布岗位 单位 岗位 …``): optional questions the line left out stay empty, the required
        ones missing are asked one by one, and the summary comes last as always.  ``problems``,
        the parts of the line not understood, are named first."""
        dialog = self.dialogs[name]
        for step in dialog.steps:  # optional questions not in the line are left empty, not asked
            if step.optional and step.applies(answers):
                answers.setdefault(step.key, None)
        state = await self.open(ctx, ctx.identity, name, answers, data,
                                dialog.first_missing(answers))
        notes = "\n".join(f"· {p}" for p in problems)
        lead = f"有几处没看懂：\n{notes}\n" if notes else ""
        if state.step == CONFIRM:
            self._say(ctx, lead + self.summary(dialog, answers))
            return
        missing = [s.label for s in dialog.applicable(answers) if s.key not in answers]
        self._say(ctx, lead + f"还缺：{'、'.join(missing)}，我来一项一项问。")
        self._ask(ctx, dialog, state)

    async def resume(self, ctx: Context, state: DialogState) -> None:
        dialog = self.dialogs[state.dialog]
        state.paused = False
        self.save(ctx, state)
        self._ask(ctx, dialog, state, prefix=f"好的，我们接着{dialog.title}。")

    async def handle(self, ctx: Context, state: DialogState, text: str, has_media: bool) -> None:
        """Take one message as the answer to the current question (or a dialog word)."""
        dialog = self.dialogs[state.dialog]
        typed = clean_text(text or "")  # what the parser gets: punctuation as typed
        text = normalize(text or "")
        if not text:
            why = "我只能看懂文字哦。" if has_media else "没有收到内容。"
            self._ask(ctx, dialog, state, prefix=why + "请用文字回答：")
            return
        if len(text) > MAX_INPUT:
            self._say(ctx, f"内容太长了（{len(text)} 个字），请简短回答这一题。")
            self._ask(ctx, dialog, state)
            return
        word = _word(text)
        if state.step == CONFIRM:
            await self._at_summary(ctx, dialog, state, text, word)
            return
        step = dialog.step(state.step)
        if word == "skip" and (step.optional or text in ("跳过", "略过")):
            if step.optional:
                await self._accept(ctx, dialog, state, step, None)
            else:
                self._ask(ctx, dialog, state, prefix="这一题需要填写，不能跳过哦。")
            return
        if word in ("back", "cancel", "resume", "help", "restart"):
            await self._word(ctx, dialog, state, word)
            return
        if word == "keep" and step.key in state.answers:
            await self._accept(ctx, dialog, state, step, state.answers[step.key])
            return
        env = ParseEnv(today=ctx.today, answers=state.answers, ctx=ctx)
        try:
            value = step.understand(typed, env)
        except ParseError as err:
            self._say(ctx, err.hint)
            return
        await self._accept(ctx, dialog, state, step, value)

    # ----- internals ---------------------------------------------------------------------
    async def _word(self, ctx: Context, dialog: Dialog, state: DialogState, word: str) -> None:
        if word == "back":
            if not state.history:
                self._ask(ctx, dialog, state, prefix="已经是第一题了。")
                return
            state.step = state.history.pop()
            state.editing = False
            self.save(ctx, state)
            self._ask(ctx, dialog, state)
        elif word == "cancel":
            state.paused = True
            self.save(ctx, state)
            cancel = dialog.cancel_text
            self._say(
                ctx,
                (cancel(state) if callable(cancel) else cancel)
                or f"好的，{dialog.title}先停在这里，您已填的内容都保留着。\n"
                "想接着填请回复“继续”，想从头填请回复“重新开始”。",
            )
        elif word == "resume":
            self._ask(ctx, dialog, state, prefix="好的，我们接着来。")
        elif word == "help":
            extra = ""
            if state.step != CONFIRM and dialog.step(state.step).help:
                extra = dialog.step(state.step).help + "\n\n"
            self._say(ctx, extra + HELP_COMMON)
            self._ask(ctx, dialog, state)
        elif word == "restart":
            await self.start(ctx, state.identity, dialog.name, data=state.data,
                             intro="好的，我们从头开始。")

    async def _accept(
        self, ctx: Context, dialog: Dialog, state: DialogState, step: Step, value: Any
    ) -> None:
        if step.stop is not None:
            message = step.stop(value)
            if message:
                await self.discard(ctx, state)
                self._say(ctx, message)
                return
        state.answers[step.key] = value
        state.history = [*state.history, step.key]
        if state.editing:
            state.step = dialog.first_missing(state.answers)
        else:
            state.step = dialog.next_after(step.key, state.answers)
        if state.step == CONFIRM:
            state.editing = False
            if not dialog.confirm:
                await self._finish(ctx, dialog, state)
                return
        self.save(ctx, state)
        self._ask(ctx, dialog, state)

    async def _finish(self, ctx: Context, dialog: Dialog, state: DialogState) -> None:
        answers = {s.key: state.answers.get(s.key) for s in dialog.applicable(state.answers)}
        message = await dialog.finish(ctx, answers, state)
        await self.discard(ctx, state)
        self._say(ctx, message)

    async def _at_summary(
        self, ctx: Context, dialog: Dialog, state: DialogState, text: str, word: str | None
    ) -> None:
        match = _EDIT.match(_PUNCT.sub("", text))
        if match:
            from dialogs.parsing.textnorm import cn_number

            number = cn_number(match.group(1))
            fields = dialog.summary_steps(state.answers)
            if number is None or not 1 <= number <= len(fields):
                self._say(ctx, f"没有第 {match.group(1)} 项，请回复 1 到 {len(fields)} 之间的编号，"
                               "例如“修改 3”。")
                return
            state.step = fields[number - 1].key
            state.editing = True
            self.save(ctx, state)
            self._ask(ctx, dialog, state)
            return
        if word == "confirm":
            await self._finish(ctx, dialog, state)
            return
        if word in ("back", "cancel", "resume", "help", "restart"):
            await self._word(ctx, dialog, state, word)
            return
        if _PUNCT.sub("", text) in ("修改", "改", "更改", "不对", "有错", "错了"):
            self._say(ctx, "要改哪一项？请回复“修改”加编号，例如“修改 3”。")
            return
        self._say(ctx, "信息无误请回复“确认”；要改哪一项请回复“修改”加编号，例如“修改 3”。")

    def _say(self, ctx: Context, text: str, identity: str | None = None) -> None:
        """Dialog messages always go privately: personal data never goes to a group."""
        ctx.tell(identity or ctx.identity, text)

    def _ask(self, ctx: Context, dialog: Dialog, state: DialogState, prefix: str = "") -> None:
        lead = f"{prefix}\n" if prefix else ""
        if state.step == CONFIRM:
            self._say(ctx, lead + self.summary(dialog, state.answers), state.identity)
            return
        step = dialog.step(state.step)
        # "第 N 题" without a total: the total changes as answers open or close branches.
        steps = dialog.applicable(state.answers)
        position = next((i for i, s in enumerate(steps, 1) if s.key == step.key), 0)
        number = f"（第{position}题）" if step.in_summary else ""
        text = f"{number}{step.question(state.answers)}"
        previous = state.answers.get(step.key)
        if step.in_summary and previous is not None:
            text += f"\n之前填的是：{step.render(previous)}（不改请回复“不变”）"
        self._say(ctx, lead + text, state.identity)

    def summary(self, dialog: Dialog, answers: Answers) -> str:
        lines = [dialog.summary_intro]
        for i, step in enumerate(dialog.summary_steps(answers), 1):
            lines.append(f"{i}. {step.label}：{step.render(answers.get(step.key))}")
        lines.append("")
        lines.append("信息无误请回复“确认”；要改哪一项请回复“修改”加编号，例如“修改 3”。")
        return "\n".join(lines)

