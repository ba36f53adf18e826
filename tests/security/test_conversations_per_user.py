"""With logins, conversations are kept on the server per user: a reload or another browser of the same user
gets them back, nothing is left in the browser's storage, and another user can neither list nor open them."""

from __future__ import annotations

import stat

import pytest

from servers import PASSWORDS
from test_roles_over_http import server  # noqa: F401  (the real app with users rita and ed, for this module)
from test_ui import CHROMIUM, CHROMIUM_ARGS, wait_answer

QUESTION = "What is specification gaming?"


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def logged_in(browser, server, name: str):
    """A fresh browser (no cookies, no storage) logged in as ``name`` through the login page."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(server.url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#question textarea")
    return page


def history(page) -> list[str]:
    return [label.strip() for label in page.locator("#history label").all_inner_texts()]


def test_a_users_conversations_follow_them_and_no_one_else_sees_them(browser, server):
    rita = logged_in(browser, server, "rita")
    rita.locator("#question textarea").fill(QUESTION)
    rita.locator("#question textarea").press("Enter")
    wait_answer(rita, 1)
    rita.locator("#history").get_by_text(QUESTION).wait_for()
    assert "kept on the server" in rita.locator("#history").inner_text()
    assert rita.evaluate("Object.keys(localStorage).filter(k => k.includes('conversations'))") == []

    files = list((server.assistant.settings.index_dir / "conversations").glob("*.json"))
    assert len(files) == 1 and "rita" not in files[0].name
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert QUESTION in files[0].read_text(encoding="utf-8")

    ed = logged_in(browser, server, "ed")  # another user: nothing of rita's is listed or opened
    ed.locator("#history").wait_for()
    assert history(ed) == []
    assert ed.locator('#chat [data-testid="bot"]').count() == 0
    ed.locator("#question textarea").fill("What is inner alignment?")
    ed.locator("#question textarea").press("Enter")
    wait_answer(ed, 1)
    ed.locator("#history").get_by_text("What is inner alignment?").wait_for()
    assert QUESTION not in " ".join(history(ed))

    again = logged_in(browser, server, "rita")  # rita on another browser: her conversation is back, open
    again.locator('#chat [data-testid="bot"]').first.wait_for()
    assert history(again) == [QUESTION]
    assert "Specification gaming" in again.locator('#chat [data-testid="bot"]').first.inner_text()
    assert "What is inner alignment?" not in again.locator("#chat").inner_text()
    for page in (rita, ed, again):
        page.context.close()
