"""The chat UI in a real headless Chromium against the real app (extractive backend, real index)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ui_server import ui  # noqa: F401  (the shared app fixture)

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ANSWER_TIMEOUT_MS = 120_000

ZORBLAX = """---
title: The Zorblax protocol
---
# The Zorblax protocol

The Zorblax protocol is a fictional handshake in which two quantum toasters exchange
seventeen marmalade tokens before agreeing on a breakfast schedule.

## Failure modes

If a toaster withholds its marmalade tokens, the Zorblax protocol falls back to porridge mode.
"""


@pytest.fixture(scope="module")
def browser(ui):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def requests_seen():
    return []


@pytest.fixture(scope="module")
def page(browser, ui, requests_seen):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("request", lambda request: requests_seen.append(request.url))
    page.goto(ui.url)
    page.wait_for_selector("#question textarea")
    yield page
    page.close()


def ask(page, question: str) -> int:
    """Ask in the chat box and wait for the final answer; returns its turn number."""
    turn = page.locator('#chat [data-testid="bot"]').count() + 1
    page.get_by_role("tab", name="Chat").click()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.wait_for_selector(f'#sources .sources[data-turn="{turn}"]', timeout=ANSWER_TIMEOUT_MS)
    return turn


def last_answer(page):
    return page.locator('#chat [data-testid="bot"]').last


def test_corpus_question_shows_linked_citation_and_highlighted_passage(page):
    turn = ask(page, "What is specification gaming?")

    answer = last_answer(page)
    assert "Specification gaming" in answer.inner_text()
    marker = answer.locator(f'a.cite-ref[href="#cite-{turn}-1"]').first
    assert marker.inner_text() == "[1]"
    assert "Why Alignment is Hard" in marker.get_attribute("title")  # hover shows where the passage is from

    source = page.locator(f"#cite-{turn}-1")
    assert "AI Alignment Overview" in source.inner_text()
    assert "ai-alignment-overview.txt" in source.inner_text()
    highlighted = source.locator("mark").inner_text()
    assert "Specification gaming: A system achieves high reward" in highlighted
    assert source.locator(".context").count() == 2  # surrounding document text either side of the span

    marker.click()
    page.wait_for_selector(f"#cite-{turn}-1.flash")
    assert len(page.context.pages) == 1  # the marker scrolled to the passage instead of opening a tab


def test_follow_up_uses_the_conversation(page):
    turn = ask(page, "Where has it been observed?")  # "it" only means something after the previous turn
    answer = last_answer(page).inner_text()
    assert "CoastRunners" in answer
    assert page.locator(f'#chat a.cite-ref[href="#cite-{turn}-1"]').count() >= 1
    assert page.locator(".sources .banner").count() == 0
    assert page.locator('#chat [data-testid="user"]').count() == 2


def test_clear_conversation(page):
    page.locator("#clear").click()
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
    assert "Sources for the latest answer appear here" in page.locator("#sources").inner_text()


def test_example_question_is_asked_on_click(page):
    page.get_by_role("button", name="What is inner alignment?").click()
    page.wait_for_selector('#sources .sources[data-turn="1"]', timeout=ANSWER_TIMEOUT_MS)
    assert page.locator('#chat [data-testid="user"]').inner_text().strip() == "What is inner alignment?"
    first_source = page.locator("#cite-1-1").inner_text()
    assert "core-of-the-alignment-problem.md" in first_source or "ai-alignment-overview.txt" in first_source
    assert page.locator("#question textarea").input_value() == ""
    page.locator("#clear").click()
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")


def test_question_outside_the_documents_shows_banner(page):
    ask(page, "What is the boiling point of liquid nitrogen in Fahrenheit?")
    banner = page.locator("#sources .banner")
    assert "documents don't answer this" in banner.inner_text()
    assert page.locator("#sources [id^=cite-]").count() == 0
    page.locator("#clear").click()


def test_upload_indexes_new_document_and_answers_from_it(page, ui, tmp_path):
    upload = tmp_path / "zorblax-protocol.md"
    upload.write_text(ZORBLAX, encoding="utf-8")

    page.get_by_role("tab", name="Documents").click()
    documents_before = len(ui.assistant.documents())
    page.get_by_text(f"{documents_before} documents").first.wait_for()
    page.locator("#upload-files input[type=file]").set_input_files(str(upload))
    page.locator('#upload-files [data-testid="download-link"]').wait_for()  # the upload reached the server
    page.locator("#upload").click()
    page.wait_for_function(
        "document.querySelector('#index-report').innerText.includes('added: zorblax-protocol.md')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    assert f"{documents_before + 1} documents" in page.locator("#index-status").inner_text()
    assert "The Zorblax protocol" in page.locator("#documents-table").inner_text()
    assert (ui.corpus / "zorblax-protocol.md").read_text(encoding="utf-8") == ZORBLAX

    turn = ask(page, "What does the Zorblax protocol exchange?")
    assert "marmalade tokens" in last_answer(page).inner_text()
    cited = page.locator(f"#cite-{turn}-1")
    assert "zorblax-protocol.md" in cited.inner_text()
    assert "seventeen marmalade tokens" in cited.locator("mark").inner_text()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui.png"))


def test_settings_show_effective_values_and_backend_errors_reach_the_chat(page, ui):
    original = ui.assistant.settings
    with socket.socket() as sock:  # a port nothing listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    try:
        page.get_by_role("tab", name="Settings").click()
        summary = page.locator("#settings-summary")
        summary.get_by_text("extractive").wait_for()
        assert "top-k 5" in summary.inner_text() and "retrieval hybrid" in summary.inner_text()
        key = page.locator("#api-key input")
        assert key.count() == 0 or key.get_attribute("type") == "password"

        page.locator("#backend input").click()
        page.get_by_role("option", name="ollama").click()
        ollama_url = page.get_by_label("Ollama base URL")
        ollama_url.fill(f"http://127.0.0.1:{dead_port}")
        page.locator("#apply-settings").click()
        summary.get_by_text("ollama").wait_for()
        assert ui.assistant.settings.backend == "ollama"
        assert ui.assistant.settings.ollama_base_url == f"http://127.0.0.1:{dead_port}"

        ask(page, "What is inner alignment?")
        message = last_answer(page).inner_text()
        assert "Error" in message and f"cannot reach http://127.0.0.1:{dead_port}" in message
        assert "Traceback" not in message
        assert len(message.strip().splitlines()) == 1
    finally:
        ui.assistant.settings = original
        page.locator("#clear").click()


def test_no_request_leaves_localhost(page, requests_seen):
    assert requests_seen, "the browser recorded no requests at all"
    outside = [
        url for url in requests_seen
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname not in ("127.0.0.1", "localhost")
    ]
    assert not outside, outside
    assert not any(re.search(r"fonts\.(googleapis|gstatic)\.com|cdn", url) for url in requests_seen)
