"""The web simulator in a real browser: a whole registration typed into the page.

Starts the bot in-process with only the simulator transport on a free port and drives
``simulator_page.html`` in headless Chromium (Debian's ``/usr/bin/chromium``) with Playwright.
``UPDATE_SCREENSHOT=1`` also rewrites ``docs/simulator.png`` (the README shows it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "simulator.png"
PHONE = {"width": 420, "height": 860}
DESKTOP = {"width": 1200, "height": 800}
BOT = '[data-testid="msg"][data-sender="bot"]'
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    """Append the GB 11643 check character."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def test_id_number_checksum() -> None:
    # the example of GB 11643-1999, appendix A
    assert id_number("11010519491231002") == "11010519491231002X"


async def bot_texts(page) -> list[str]:
    return await page.locator(BOT).all_inner_texts()


async def say(page, text: str, expect: str) -> str:
    """Type ``text`` in the input, press Enter, and return the first new bot bubble, which
    must contain ``expect``."""
    bot = page.locator(BOT)
    before = await bot.count()
    box = page.get_by_test_id("input")
    await box.fill(text)
    async with page.expect_response(lambda r: r.url.endswith("/api/send")) as sent:
        await box.press("Enter")
    response = await sent.value
    assert response.ok, f"POST /api/send failed for {text!r}: {await response.text()}"
    try:
        await bot.nth(before).wait_for(timeout=10_000)
    except Exception:
        pytest.fail(f"no bot reply appeared after {text!r}; last bot messages: "
                    f"{(await bot_texts(page))[-2:]}")
    new = (await bot_texts(page))[before:]
    if expect not in new[0]:
        pytest.fail(f"after {text!r} expected a bot bubble with {expect!r}, got {new!r}")
    assert "系统刚才出了点问题" not in "\n".join(new), f"the bot failed on {text!r}: {new!r}"
    return new[0]


@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="/usr/bin/chromium is not installed (apt-get install chromium)")
async def test_registration_in_the_browser(tmp_path: Path) -> None:
    async_api = pytest.importorskip("playwright.async_api")
    expect = async_api.expect

    from bot.app import App
    from bot.config import Settings
    from bot.transports.simulator import SimulatorTransport

    started = time.monotonic()
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/bot.db", simulator_port=0)
    sim = SimulatorTransport("127.0.0.1", 0)
    app = App(settings, transports=[sim])
    sim.flush = lambda: app.outbound.drain(["sim"])
    await app.start()
    try:
        async with async_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport=PHONE)
                await page.goto(f"http://127.0.0.1:{sim.port}/", wait_until="domcontentloaded")
                await expect(page.get_by_test_id("status")).to_contain_text("已连接")
                await register(page, expect)
                await check_people_and_groups(page, expect)
            finally:
                await browser.close()
    finally:
        sim._changed.set()  # end the page's pending long-poll so the server stops at once
        await app.stop()
    print(f"browser test took {time.monotonic() - started:.1f}s")


async def register(page, expect) -> None:
    full_id = id_number("52011119900101123")
    masked = f"{full_id[:4]}**********{full_id[-4:]}"

    await expect(page.get_by_test_id("person-u1")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("chat-private")).to_have_attribute("aria-selected", "true")
    await say(page, "登记", "同意登记吗")
    await say(page, "同意", "姓名")
    await say(page, "王小明", "身份证号")
    await say(page, full_id, "手机号")
    await say(page, "13812345678", "乡镇或街道")
    await say(page, "青岩", "村或社区")
    await say(page, "歪脚村", "哪个组")
    await say(page, "跳过", "户主")
    await say(page, "本人", "哪类人员")
    health = await say(page, "3", "身体状况")
    assert "1. 身体健康" in health  # options are listed one per line

    # the view keeps line breaks of multi-line bot text
    lines = await page.locator(BOT).last.locator('[data-testid="msg-text"]').evaluate(
        "e => e.offsetHeight / parseFloat(getComputedStyle(e).lineHeight)")
    assert lines >= 5, f"the option list is not shown line by line ({lines} lines)"
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        await page.screenshot(path=str(SCREENSHOT))

    await say(page, "1", "不舒服")
    await say(page, "1", "困难需要帮扶")
    await say(page, "没有", "技能")
    await say(page, "跳过", "以前在哪里")
    await say(page, "跳过", "就业情况")
    await say(page, "4", "接下来的打算")
    await say(page, "1", "想找什么工作")
    await say(page, "普工", "希望在哪里工作")
    await say(page, "花溪", "期望月薪")
    summary = await say(page, "跳过", "请核对")
    assert masked in summary, f"masked ID {masked} not in the summary: {summary!r}"
    assert "138****5678" in summary, summary
    assert "13812345678" not in summary, summary
    for word in ("王小明", "青岩镇", "歪脚村", "暂无岗位", "确认"):
        assert word in summary, f"{word} not in the summary: {summary!r}"
    await say(page, "确认", "登记成功")
    for text in await bot_texts(page):
        assert full_id not in text, f"a bot message shows the full ID number: {text!r}"


async def check_people_and_groups(page, expect) -> None:
    await page.set_viewport_size(DESKTOP)

    # c1's private chat is their own: nothing of u1's registration shows there
    await page.get_by_test_id("person-c1").click()
    await expect(page.get_by_test_id("person-c1")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("chat-private")).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("empty")).to_be_visible()
    assert await page.get_by_test_id("msg").count() == 0
    assert "王小明" not in await page.get_by_test_id("messages").inner_text()

    # u1 speaks in group g1: shown with u1's name, and c1 gets an unread count
    await page.get_by_test_id("person-u1").click()
    await expect(page.get_by_test_id("msg").first).to_be_visible()  # u1's history is back
    await page.get_by_test_id("chat-group-g1").click()
    await expect(page.get_by_test_id("chat-group-g1")).to_have_attribute("aria-selected", "true")
    box = page.get_by_test_id("input")
    await box.fill("大家好，我登记好了")
    await page.get_by_test_id("send").click()
    mine = page.locator('[data-testid="msg"][data-sender="u1"]').last
    await expect(mine).to_contain_text("大家好，我登记好了")
    await expect(mine.get_by_test_id("sender-name")).to_contain_text("务工人员")
    await expect(page.get_by_test_id("unread-c1")).to_be_visible()

    # c1 sees it in the same group, from u1; the unread count clears
    await page.get_by_test_id("person-c1").click()
    await page.get_by_test_id("chat-group-g1").click()
    theirs = page.locator('[data-testid="msg"][data-sender="u1"]').last
    await expect(theirs).to_contain_text("大家好，我登记好了")
    await expect(theirs.get_by_test_id("sender-name")).to_contain_text("务工人员")
    await expect(page.get_by_test_id("unread-c1")).to_be_hidden()

    # text is text: markup is shown as typed, Shift+Enter makes a new line
    await page.get_by_test_id("mention-bot").uncheck()  # not addressed to the bot
    await box.fill("<b>粗体</b><img src=x onerror=alert(1)>")
    await box.press("Shift+Enter")
    await box.press_sequentially("第二行")
    await box.press("Enter")
    odd = page.locator('[data-testid="msg"][data-sender="c1"]').last
    await expect(odd.get_by_test_id("msg-text")).to_have_text(
        "<b>粗体</b><img src=x onerror=alert(1)>\n第二行")
    assert await odd.locator("b, img").count() == 0
