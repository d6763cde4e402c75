"""The web simulator's HTTP API, with the real bot behind it."""

from __future__ import annotations

import aiohttp
import pytest

from bot.app import App
from bot.transports.simulator import SimulatorTransport


@pytest.fixture
async def simulator(settings):
    sim = SimulatorTransport("127.0.0.1", 0)
    app = App(settings, transports=[sim])
    sim.flush = lambda: app.outbound.drain(["sim"])
    await app.start()
    async with aiohttp.ClientSession(f"http://127.0.0.1:{sim.port}") as http:
        yield http
    await app.stop()


async def send(http, **body):
    async with http.post("/api/send", json=body) as resp:
        return resp.status, await resp.json()


async def test_chat_as_two_people_and_read_the_log(simulator):
    status, body = await send(simulator, user="u1", chat="private", text="登记")
    assert status == 200
    [reply] = body["replies"]
    assert reply["chat"] == "private:u1" and reply["to"] == "u1" and "同意" in reply["text"]
    _, body = await send(simulator, user="u1", text="同意")
    assert "姓名" in body["replies"][0]["text"]
    _, body = await send(simulator, user="c1", chat="group:g1", text="大家好", name="李书记")
    assert body["replies"][0]["chat"] == "group:g1" and body["replies"][0]["at"] == ["c1"]
    async with simulator.get("/api/messages", params={"after": "0"}) as resp:
        log = (await resp.json())["messages"]
    senders = [(m["sender"], m["chat"]) for m in log]
    assert senders == [
        ("u1", "private:u1"), ("bot", "private:u1"), ("u1", "private:u1"), ("bot", "private:u1"),
        ("c1", "group:g1"), ("bot", "group:g1"),
    ]
    assert log[4]["name"] == "李书记"


async def test_duplicate_id_and_bad_requests(simulator):
    await send(simulator, user="u1", text="登记")
    _, first = await send(simulator, user="u1", text="同意", id="dup-1")
    _, again = await send(simulator, user="u1", text="同意", id="dup-1")
    assert len(first["replies"]) == 1 and again["replies"] == []
    for body in ({"user": "", "text": "x"}, {"user": "a:b", "text": "x"},
                 {"user": "u1", "chat": "somewhere", "text": "x"}):
        status, answer = await send(simulator, **body)
        assert status == 400 and answer["error"]
    async with simulator.post("/api/send", data="not json") as resp:
        assert resp.status == 400
    async with simulator.get("/") as resp:
        assert resp.status == 200 and "返岗通" in await resp.text()
