"""OneBot v11 parsing and encoding against real payloads (tests/data/onebot, see SOURCES.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messages import ChatRef, Inbound, Outbound
from bot.transports.base import PlatformEvent
from bot.transports.onebot_codec import (
    AT_ALL_TEXT,
    api_error_text,
    api_ok,
    cq_escape,
    cq_unescape,
    echo_key,
    encode_message,
    friend_request_flag,
    heartbeat_interval,
    is_api_response,
    normalize_message,
    parse_cq_string,
    parse_event,
    render_segments,
    send_request,
    upload_request,
)

DATA = Path(__file__).parent / "data" / "onebot"
FILES = sorted(p.name for p in DATA.glob("*.json"))


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def group(gid: str) -> ChatRef:
    return ChatRef("qq", "group", gid)


def private(uid: str) -> ChatRef:
    return ChatRef("qq", "private", uid)


# file: (chat, sender_id, text, message_id, sender_name, mentioned, has_media, account, time)
MESSAGES: dict[str, tuple[ChatRef, str, str, str, str, bool, bool, str, int]] = {
    "gocq_group_message_string_card_message_seq.json": (
        group("669026253"), "1942422015", "群消息", "-2058339141", "ID：Jarid Harris",
        False, False, "1487248817", 1684228450),
    "gocq_group_message_string_v0.9.19.json": (
        group("1030276624"), "495488027", "123", "-1710644428", "夜吟夜语",
        False, False, "3454462721", 1597767405),
    "gocq_group_message_string_v1.1.0_message_seq.json": (
        group("810797143"), "2759372655", "1", "1686889310", "QQ团队",
        False, False, "2810027575", 1689011435),
    "gocq_private_message_string_target_id.json": (
        private("1942422015"), "1942422015", "。。", "-2100915033",
        "Oswald Kan Mon May 15 2023 CST", True, False, "1487248817", 1684227772),
    "lagrange_group_text_message_array_unicode_escaped.json": (
        group("114514111"), "114514111", "谁at我", "1417024324", "锟斤拷" * 6,
        False, False, "11451411", 1717298375),
    "napcat_group_image_only_array_history.json": (
        group("284840486"), "1094950020", "", "729844644", "楚サク",
        False, True, "1851991319", 1741711544),
    "nonebot_fixture_group_cqstring_atall.json": (
        group("1"), "1", "@全体成员 Test text", "1", "Test", False, False, "0", 0),
    "nonebot_fixture_private_cqstring_atall.json": (
        private("1"), "1", "@全体成员 Test text", "1", "Test", True, False, "0", 0),
    "spec_http_post_private_message_string.json": (
        private("12345678"), "12345678", "你好～", "12", "小不点",
        True, False, "10001000", 1515204254),
}

EVENTS: dict[str, PlatformEvent] = {
    "coolq_http_api_friend_add_notice.json": PlatformEvent(
        "friend_added", private("188700679"), "188700679", account="2442459484"),
}


def test_corpus_is_complete() -> None:
    assert len(FILES) == 30 and (DATA / "SOURCES.md").exists()
    for name in FILES:
        assert name in (DATA / "SOURCES.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", FILES)
def test_every_payload_parses_without_raising(name: str) -> None:
    payload = load(name)
    event = parse_event(payload)
    if name in MESSAGES:
        chat, sender, text, mid, sender_name, mentioned, media, account, stamp = MESSAGES[name]
        assert event == Inbound(
            chat=chat, sender_id=sender, text=text, message_id=mid,
            time=datetime.fromtimestamp(stamp, UTC), sender_name=sender_name,
            mentioned=mentioned, has_media=media, account=account,
        )
        assert event.time.tzinfo is not None
    elif name in EVENTS:
        assert event == EVENTS[name]
    else:
        assert event is None
    # the same with the connection's account given, and with ids turned into strings
    if isinstance(payload, dict):
        stringly = {k: str(v) if k.endswith("_id") else v for k, v in payload.items()}
        again = parse_event(stringly, "999")
        assert (again is None) == (event is None)
        if isinstance(event, Inbound):
            assert isinstance(again, Inbound)
            assert (again.chat, again.sender_id, again.text) == (
                event.chat, event.sender_id, event.text)


def test_bot_joining_a_group_is_not_a_member_joined_event() -> None:
    payload = load("gocq_group_increase_approve_anonymized.json")  # user_id == self_id
    assert parse_event(payload) is None
    payload["user_id"] = 444
    assert parse_event(payload) == PlatformEvent("member_joined", group("111"), "444",
                                                 account="333")


def test_requests_and_meta() -> None:
    assert friend_request_flag(load("gocq_friend_request_anonymized.json")) == "1647619872000000"
    assert friend_request_flag(load("gocq_group_invite_request_anonymized.json")) is None
    assert heartbeat_interval(load("lagrange_heartbeat.json")) == 5.0
    assert heartbeat_interval(load("gocq_heartbeat_v1.0.0-rc3.json")) == 5.0
    assert heartbeat_interval(load("gocq_heartbeat_v1.0.0-beta7_http_post.json")) == 5.0
    assert heartbeat_interval(load("lagrange_lifecycle_connect.json")) is None


@pytest.mark.parametrize(("name", "key", "ok"), [
    ("gocq_api_response_ok_echo_object.json", '{"seq": 1}', True),
    ("gocq_api_error_retcode100_echo0.json", "0", False),
    ("gocq_api_error_retcode100_beta7.json", None, False),
    ("gocq_api_error_retcode100_send_msg.json", None, False),
    ("lagrange_api_response_get_login_info_echo_int.json", "1", True),
    ("lagrange_api_response_ok_data_null_echo_null.json", None, True),
    ("spec_ws_api_response_failed_1404.json", "123", False),
])
def test_api_responses(name: str, key: str | None, ok: bool) -> None:
    payload = load(name)
    assert is_api_response(payload)
    assert echo_key(payload.get("echo")) == key
    assert api_ok(payload) is ok


def test_requests_and_events_are_not_api_responses() -> None:
    for name in ("lagrange_api_request_get_login_info_no_params_echo_int.json",
                 "lagrange_api_request_upload_group_file_string_ids.json",
                 "spec_ws_api_request_send_private_msg.json", "lagrange_heartbeat.json"):
        assert not is_api_response(load(name))


def test_echo_keys_match_across_types() -> None:
    assert echo_key(5) == echo_key("5") == "5"
    assert echo_key(None) is None and echo_key(True) is None
    assert echo_key({"b": 1, "a": 2}) == echo_key({"a": 2, "b": 1})


def test_api_error_texts() -> None:
    assert api_error_text(load("gocq_api_error_retcode100_send_msg.json")) == (
        "SEND_MSG_API_ERROR: 请参考 go-cqhttp 端输出 (retcode 100)")
    assert "SEND_MSG_API_ERROR" in api_error_text(load("gocq_api_error_retcode100_beta7.json"))
    assert "1404" in api_error_text(load("spec_ws_api_response_failed_1404.json"))
    assert "unknown" in api_error_text(load("spec_ws_api_response_failed_1404.json"))
    assert "go-cqhttp" in api_error_text({"status": "failed", "retcode": 100})
    assert "1400" in api_error_text({"status": "failed", "retcode": 1400})
    assert "NapCat" in api_error_text({"status": "failed", "retcode": 1200})


def test_segment_array_from_spec() -> None:
    segments = normalize_message(load("spec_message_array_text_image_face.json"))
    assert render_segments(segments) == ("[第一部分]图片之后的部分，表情：", False, True)


def test_cq_string_parsing_and_mentions() -> None:
    text = "[CQ:at,qq=10001] 36.5&#44; 正常 &amp; [CQ:face,id=1]&#91;x&#93;[CQ:at,qq=42,name=李四]"
    assert render_segments(parse_cq_string(text), "10001") == (
        "36.5, 正常 & [x]@李四", True, True)
    assert render_segments(parse_cq_string("[CQ:at,qq=42] hi"), "10001") == ("@42 hi", False, False)
    at_all = [{"type": "at", "data": {"qq": "0"}}, {"type": "text", "data": {"text": " 开会"}}]
    assert render_segments(at_all, "0") == (AT_ALL_TEXT + " 开会", False, False)
    assert parse_cq_string("[CQ:image,file=a.png,url=https://x/?a=1&amp;b=2]") == [
        {"type": "image", "data": {"file": "a.png", "url": "https://x/?a=1&b=2"}}]


def test_array_mention_with_int_qq_and_raw_message_fallback() -> None:
    event = parse_event({
        "post_type": "message", "message_type": "group", "self_id": "777", "user_id": "5",
        "group_id": 9, "message_id": "abcHash", "time": "1700000000",
        "message": [{"type": "at", "data": {"qq": 777}},
                    {"type": "text", "data": {"text": " 报名 3"}}, "junk", {"type": "text"}],
        "sender": {"nickname": "王五", "card": " "},
    })
    assert isinstance(event, Inbound)
    assert (event.text, event.mentioned, event.message_id, event.sender_name) == (
        "报名 3", True, "abcHash", "王五")
    assert event.account == "777" and event.chat == group("9")
    fallback = parse_event({"post_type": "message", "message_type": "private", "user_id": 3,
                            "message": [], "raw_message": "&#91;CQ:at,qq=all&#93;"})
    assert isinstance(fallback, Inbound) and fallback.text == "[CQ:at,qq=all]"
    assert fallback.message_id  # synthesised when missing, stable for the same payload


@pytest.mark.parametrize("payload", [
    None, [], "x", 5, {}, {"post_type": "message"},
    {"post_type": "message", "message_type": "group", "user_id": 1},  # no group_id
    {"post_type": "message", "message_type": "private", "user_id": 1, "message": 5,
     "time": "later"},
    {"post_type": "message", "message_type": "private", "user_id": [1], "message": "x"},
    {"post_type": "message", "message_type": "guild", "user_id": 1, "message": "x"},
    {"post_type": "message", "message_type": "group", "sub_type": "anonymous", "user_id": 1,
     "group_id": 2, "message": "x"},
    {"post_type": "message_sent", "message_type": "private", "user_id": 1, "message": "x"},
    {"post_type": "message", "message_type": "private", "self_id": 1, "user_id": 1,
     "message": "own"},
    {"post_type": "notice", "notice_type": "group_increase", "user_id": 1},
    {"post_type": "notice", "notice_type": "friend_add"},
])
def test_malformed_or_uninteresting_payloads(payload: Any) -> None:
    event = parse_event(payload)
    if isinstance(event, Inbound):  # only the message with an odd message/time survives
        assert event.sender_id == "1" and event.text == ""
    else:
        assert event is None


# --- outbound ---------------------------------------------------------------------------------


def test_encode_text_only_in_text_segments() -> None:
    out = Outbound(group("5"), "[CQ:at,qq=all] 你好 &#91;")
    assert encode_message(out) == [
        {"type": "text", "data": {"text": "[CQ:at,qq=all] 你好 &#91;"}}]
    assert send_request(out) == ("send_group_msg", {"group_id": 5, "message": encode_message(out)})


def test_encode_mentions_and_at_all() -> None:
    out = Outbound(group("5"), "开会", mentions=("42", "all", "0x1"), mention_all=True)
    assert encode_message(out) == [
        {"type": "at", "data": {"qq": "all"}},
        {"type": "at", "data": {"qq": "42"}},
        {"type": "text", "data": {"text": " 开会"}},
    ]
    assert encode_message(Outbound(private("42"), "hi", mentions=("42",), mention_all=True)) == [
        {"type": "text", "data": {"text": "hi"}}]


def test_encode_files(tmp_path: Path) -> None:
    image, sheet = tmp_path / "chart.png", tmp_path / "名单.xlsx"
    out = Outbound(private("42"), "日报", file=str(image))
    assert encode_message(out) == [
        {"type": "text", "data": {"text": "日报"}},
        {"type": "image", "data": {"file": f"file://{image}"}},
    ]
    assert upload_request(out) is None
    assert send_request(out)[0] == "send_private_msg"
    assert send_request(out)[1]["user_id"] == 42
    doc = Outbound(group("7"), "", file=str(sheet))
    assert encode_message(doc) == []
    assert upload_request(doc) == (
        "upload_group_file", {"group_id": 7, "file": str(sheet), "name": "名单.xlsx"})
    assert upload_request(Outbound(private("8"), "x", file=str(sheet)))[0] == "upload_private_file"
    with pytest.raises(ValueError):
        send_request(Outbound(private("wxid_abc"), "x"))


@given(st.text())
def test_any_text_round_trips_as_one_text_segment(text: str) -> None:
    segments = encode_message(Outbound(group("1"), text))
    assert all(s["type"] == "text" for s in segments)
    assert "".join(s["data"]["text"] for s in segments) == text
    assert cq_unescape(cq_escape(text)) == text
    assert cq_unescape(cq_escape(text, comma=True)) == text
    escaped = cq_escape(text)
    assert render_segments(parse_cq_string(escaped), "1")[0] == text.strip()
