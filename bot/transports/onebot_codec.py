"""OneBot v11 (QQ) payloads: pure parsing and encoding, no I/O.

Everything here is a plain function of its arguments so that it can be tested against the real
payloads in ``tests/data/onebot/``.  The connection logic lives in :mod:`bot.transports.onebot`.

Inbound: ``message`` may be a CQ string or a segment array whatever the implementation is
configured for, so both are always turned into segments (``raw_message`` is the fallback).
Outbound: always a segment array, user text only ever in ``text`` segments, so that nothing a
person typed (``[CQ:at,qq=all]`` in a name) can become markup.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.messages import ChatRef, Inbound, Outbound
from bot.transports.base import PlatformEvent

log = logging.getLogger("bot.transports.onebot")

PLATFORM = "qq"
AT_ALL_TEXT = "@全体成员"
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
MEDIA_SEGMENTS = frozenset(
    {"image", "face", "mface", "marketface", "record", "file", "video", "dice", "rps",
     "forward", "node", "json", "xml", "share", "music", "location", "contact", "poke",
     "flash", "cardimage", "tts"}
)

Segment = dict[str, Any]

# What a retcode means when the implementation sent no text (OneBot spec, go-cqhttp, NapCat).
RETCODE_TEXT: dict[int, str] = {
    100: "request failed (go-cqhttp retcode 100: invalid or missing parameters, or QQ refused;"
    " see the go-cqhttp log)",
    102: "invalid data returned (retcode 102)",
    103: "operation failed (retcode 103: no permission?)",
    1200: "the OneBot implementation raised an exception (NapCat retcode 1200)",
    1400: "bad request: invalid parameters (retcode 1400)",
    1401: "unauthorized: access token missing (retcode 1401)",
    1403: "forbidden: access token wrong (retcode 1403)",
    1404: "unknown or unsupported API action (retcode 1404)",
}

_CQ_CODE = re.compile(r"\[CQ:([^,\]]+)((?:,[^,\]]*)*)\]")


# --- CQ strings -------------------------------------------------------------------------------


def cq_escape(text: str, *, comma: bool = False) -> str:
    """Escape text for a CQ string (``comma=True`` inside a CQ code's parameter value)."""
    text = text.replace("&", "&amp;").replace("[", "&#91;").replace("]", "&#93;")
    return text.replace(",", "&#44;") if comma else text


def cq_unescape(text: str) -> str:
    return (
        text.replace("&#44;", ",").replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")
    )


def parse_cq_string(text: str) -> list[Segment]:
    """A CQ string as a segment array; text is unescaped, values of CQ codes too."""
    segments: list[Segment] = []
    pos = 0
    for match in _CQ_CODE.finditer(text):
        if match.start() > pos:
            segments.append(_text_segment(cq_unescape(text[pos : match.start()])))
        data: dict[str, str] = {}
        for param in match.group(2).split(",")[1:]:
            key, _, value = param.partition("=")
            if key:
                data[key.strip()] = cq_unescape(value)
        segments.append({"type": match.group(1).strip(), "data": data})
        pos = match.end()
    if pos < len(text):
        segments.append(_text_segment(cq_unescape(text[pos:])))
    return segments


def _text_segment(text: str) -> Segment:
    return {"type": "text", "data": {"text": text}}


def normalize_message(message: Any, raw_message: Any = None) -> list[Segment]:
    """``message`` in any form an implementation sends (string, array, one segment) as segments."""
    segments: list[Segment] = []
    if isinstance(message, str):
        segments = parse_cq_string(message)
    elif isinstance(message, dict):
        segments = _clean_segments([message])
    elif isinstance(message, list):
        segments = _clean_segments(message)
    if not segments and isinstance(raw_message, str) and raw_message:
        segments = parse_cq_string(raw_message)
    return segments


def _clean_segments(items: list[Any]) -> list[Segment]:
    segments: list[Segment] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            continue
        data = item.get("data")
        segments.append({"type": item["type"], "data": data if isinstance(data, dict) else {}})
    return segments


def render_segments(segments: list[Segment], self_id: str = "") -> tuple[str, bool, bool]:
    """``(text, mentioned, has_media)``: @bot removed, other @s and @all rendered as text."""
    parts: list[str] = []
    mentioned = has_media = False
    for segment in segments:
        kind, data = segment["type"], segment["data"]
        if kind == "text":
            value = data.get("text")
            parts.append(value if isinstance(value, str) else "")
        elif kind == "at":
            qq = id_text(data.get("qq")) or ""
            if qq in ("all", "0"):
                parts.append(AT_ALL_TEXT)
            elif self_id and qq == self_id:
                mentioned = True
            else:
                name = data.get("name")
                name = name.strip().lstrip("@") if isinstance(name, str) else ""
                parts.append("@" + (name or qq))
        elif kind in MEDIA_SEGMENTS:
            has_media = True
    return "".join(parts).strip(), mentioned, has_media


# --- inbound events ---------------------------------------------------------------------------


def id_text(value: Any) -> str | None:
    """A QQ id (user, group, self) sent as a number or a string, as text; None if unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def event_time(value: Any) -> datetime:
    """Epoch seconds (or milliseconds) as an aware UTC datetime; now if missing or invalid."""
    try:
        stamp = float(value)
        if stamp > 1e11:  # milliseconds
            stamp /= 1000
        return datetime.fromtimestamp(stamp, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def sender_name(payload: dict[str, Any]) -> str:
    sender = payload.get("sender")
    if not isinstance(sender, dict):
        return ""
    for key in ("card", "nickname"):
        value = sender.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _message_id(payload: dict[str, Any]) -> str:
    value = payload.get("message_id")
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value):
        return str(value)
    digest = hashlib.sha1(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    return "h" + digest[:20]


def parse_event(payload: Any, self_id: str | int | None = None) -> Inbound | PlatformEvent | None:
    """A OneBot event as an :class:`Inbound` message or a :class:`PlatformEvent`, else None.

    ``self_id`` is the bot account if known from the connection; the payload's own ``self_id``
    wins.  Never raises: anything malformed or of no interest is logged at debug and is None.
    """
    if not isinstance(payload, dict):
        log.debug("OneBot: ignoring non-object payload %.200r", payload)
        return None
    try:
        account = id_text(payload.get("self_id")) or id_text(self_id) or ""
        post_type = payload.get("post_type")
        if post_type == "message":
            return _parse_message(payload, account)
        if post_type == "notice":
            return _parse_notice(payload, account)
    except Exception:  # a malformed payload must never break the connection
        log.debug("OneBot: cannot parse event %.300r", payload, exc_info=True)
        return None
    log.debug("OneBot: ignoring %s event", post_type)
    return None


def _parse_message(payload: dict[str, Any], account: str) -> Inbound | None:
    kind = payload.get("message_type")
    user_id = id_text(payload.get("user_id"))
    if user_id is None or kind not in ("private", "group"):
        log.debug("OneBot: ignoring message without user or of type %r", kind)
        return None
    if account and user_id == account:
        log.debug("OneBot: ignoring the bot's own message")
        return None
    if kind == "group":
        group_id = id_text(payload.get("group_id"))
        if group_id is None or payload.get("sub_type") in ("anonymous", "notice"):
            log.debug("OneBot: ignoring group message (sub_type %r)", payload.get("sub_type"))
            return None
        chat = ChatRef(PLATFORM, "group", group_id)
    else:
        chat = ChatRef(PLATFORM, "private", user_id)
    segments = normalize_message(payload.get("message"), payload.get("raw_message"))
    text, mentioned, has_media = render_segments(segments, account)
    return Inbound(
        chat=chat,
        sender_id=user_id,
        text=text,
        message_id=_message_id(payload),
        time=event_time(payload.get("time")),
        sender_name=sender_name(payload),
        mentioned=mentioned or kind == "private",
        has_media=has_media,
        account=account,
    )


def _parse_notice(payload: dict[str, Any], account: str) -> PlatformEvent | None:
    notice = payload.get("notice_type")
    user_id = id_text(payload.get("user_id"))
    if user_id is None:
        return None
    if notice == "friend_add":
        chat = ChatRef(PLATFORM, "private", user_id)
        return PlatformEvent("friend_added", chat, user_id, account=account)
    if notice == "group_increase":
        group_id = id_text(payload.get("group_id"))
        if group_id is None:
            return None
        if user_id == account:
            log.info("QQ account %s joined group %s", account, group_id)
            return None
        chat = ChatRef(PLATFORM, "group", group_id)
        return PlatformEvent("member_joined", chat, user_id, account=account)
    log.debug("OneBot: ignoring notice %r", notice)
    return None


def friend_request_flag(payload: dict[str, Any]) -> str | None:
    """The ``flag`` of a friend request (to approve it), else None."""
    if payload.get("post_type") != "request" or payload.get("request_type") != "friend":
        return None
    flag = payload.get("flag")
    return str(flag) if isinstance(flag, str | int) and not isinstance(flag, bool) else None


def heartbeat_interval(payload: dict[str, Any]) -> float | None:
    """Seconds between heartbeats announced by a heartbeat meta event, else None."""
    if payload.get("meta_event_type") != "heartbeat":
        return None
    value = payload.get("interval")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return value / 1000
    return None


# --- API responses ----------------------------------------------------------------------------


def is_api_response(payload: dict[str, Any]) -> bool:
    """An answer to an API call (not an event, nor a request someone else sent)."""
    if "post_type" in payload or "action" in payload:
        return False
    return "echo" in payload or "retcode" in payload


def echo_key(echo: Any) -> str | None:
    """The key an API echo is matched by: ``5`` and ``"5"`` are the same; None can't match."""
    if echo is None or isinstance(echo, bool):
        return None
    if isinstance(echo, int | str):
        return str(echo)
    try:
        return json.dumps(echo, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return None


def api_ok(response: dict[str, Any]) -> bool:
    retcode, status = response.get("retcode"), response.get("status")
    if status is None:  # some implementations leave it out
        return retcode == 0
    return status in ("ok", "async") and retcode in (0, 1, None)


def api_error_text(response: dict[str, Any]) -> str:
    """What went wrong, from ``msg``/``wording``/``message`` or the retcode's meaning."""
    texts: list[str] = []
    for key in ("msg", "wording", "message"):
        value = response.get(key)
        if isinstance(value, str) and value.strip() and value.strip() not in texts:
            texts.append(value.strip())
    retcode = response.get("retcode")
    if texts:
        return f"{': '.join(texts)} (retcode {retcode})"
    if isinstance(retcode, int) and retcode in RETCODE_TEXT:
        return RETCODE_TEXT[retcode]
    return f"failed (status {response.get('status')!r}, retcode {retcode})"


def message_id_of(response: dict[str, Any]) -> str | None:
    data = response.get("data")
    if isinstance(data, dict) and data.get("message_id") is not None:
        return str(data["message_id"])
    return None


# --- outbound ---------------------------------------------------------------------------------


def is_image(path: str) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def encode_message(out: Outbound) -> list[Segment]:
    """The segment array for ``out``: @s first, then its text, then an image if attached.

    Text only ever goes into ``text`` segments; ``mentions`` that are not numeric QQ ids are
    dropped, and @all is emitted only when ``mention_all`` is set.  @s are left out of private
    chats.  A non-image file is not part of the message (see :func:`upload_request`).
    """
    segments: list[Segment] = []
    if out.chat.kind == "group":
        if out.mention_all:
            segments.append({"type": "at", "data": {"qq": "all"}})
        for user_id in out.mentions:
            # qq "0" is how Lagrange writes @all: never a person, never sent.
            if user_id.isascii() and user_id.isdigit() and int(user_id) > 0:
                segments.append({"type": "at", "data": {"qq": user_id}})
    text = out.text
    if segments and text and not text[0].isspace():
        text = " " + text
    if text:
        segments.append(_text_segment(text))
    if out.file and is_image(out.file):
        segments.append({"type": "image", "data": {"file": Path(out.file).resolve().as_uri()}})
    return segments


def send_request(out: Outbound) -> tuple[str, dict[str, Any]]:
    """``(action, params)`` sending ``out``'s message; ValueError for a non-numeric chat id."""
    message = encode_message(out)
    if out.chat.kind == "group":
        return "send_group_msg", {"group_id": int(out.chat.chat_id), "message": message}
    return "send_private_msg", {"user_id": int(out.chat.chat_id), "message": message}


def upload_request(out: Outbound) -> tuple[str, dict[str, Any]] | None:
    """``(action, params)`` uploading a non-image file of ``out``; None if there is none."""
    if not out.file or is_image(out.file):
        return None
    path = Path(out.file).resolve()
    params: dict[str, Any] = {"file": str(path), "name": path.name}
    if out.chat.kind == "group":
        return "upload_group_file", {"group_id": int(out.chat.chat_id), **params}
    return "upload_private_file", {"user_id": int(out.chat.chat_id), **params}
