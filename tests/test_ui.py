"""The chat UI in a real headless Chromium against the real app (extractive backend, real index)."""

from __future__ import annotations

import re
import socket
from contextlib import contextmanager
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
    page.context.on("request", lambda request: requests_seen.append(request.url))  # popups too
    page.goto(ui.url)
    page.wait_for_selector("#question textarea")
    yield page
    page.close()


FINISHED = ':not([data-state="searching"]):not([data-state="writing"])'


def wait_answer(page, turn: int) -> None:
    page.wait_for_selector(f'#sources .sources[data-turn="{turn}"]{FINISHED}', state="attached",
                           timeout=ANSWER_TIMEOUT_MS)
    page.locator("#stop").wait_for(state="hidden", timeout=ANSWER_TIMEOUT_MS)  # the run is over


def ask(page, question: str) -> int:
    """Ask in the chat box and wait for the final answer; returns its turn number."""
    turn = page.locator('#chat [data-testid="bot"]').count() + 1
    page.get_by_role("tab", name="Chat").click()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    wait_answer(page, turn)
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
    assert page.locator(f'.sources[data-turn="{turn}"] .state.verified').is_visible()
    assert page.locator('#chat [data-testid="user"]').count() == 2


def test_clear_conversation(page):
    page.locator("#clear").click()
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
    assert "Sources for each answer appear here" in page.locator("#sources").inner_text()


def test_example_question_is_asked_on_click(page):
    page.get_by_role("button", name="What is inner alignment?").click()
    wait_answer(page, 1)
    assert page.locator('#chat [data-testid="user"]').inner_text().strip() == "What is inner alignment?"
    first_source = page.locator("#cite-1-1").inner_text()
    assert "core-of-the-alignment-problem.md" in first_source or "ai-alignment-overview.txt" in first_source
    assert page.locator("#question textarea").input_value() == ""
    page.locator("#clear").click()
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")


def test_question_outside_the_documents_shows_banner(page):
    ask(page, "What is the boiling point of liquid nitrogen in Fahrenheit?")
    banner = page.locator("#sources .state.not-found")
    assert "Not in the documents" in banner.inner_text() and "documents don't answer this" in banner.inner_text()
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


# ---- issue 13: never lose a question, themes, copy, answer states, rendered passages, earlier citations ----


@pytest.fixture(scope="module")
def llm(ui):
    """The scripted model (tests/ui_llm.py); a test switches the app to it with :func:`use_model`."""
    import ui_llm

    server = ui_llm.start()
    yield server
    server.close()


@contextmanager
def use_model(ui, llm, model: str):
    original = ui.assistant.settings
    ui.assistant.update_settings(backend="openai", openai_base_url=f"{llm.url}/v1", llm_model=model,
                                 openai_api_key="sk-test")
    try:
        yield
    finally:
        ui.assistant.settings = original


def clear(page) -> None:
    page.locator("#clear").click()
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")


def new_page(browser, requests_seen, ui, width=1400, height=1000, theme="light"):
    """Another page at a phone or desktop width, in the light or the dark theme (as the system preference)."""
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=theme)
    page = context.new_page()
    page.context.on("request", lambda request: requests_seen.append(request.url))  # popups too
    page.goto(ui.url)
    page.wait_for_selector("#question textarea")
    return page


def test_question_typed_while_an_answer_streams_is_queued_and_nothing_typed_is_erased(page, ui, llm):
    clear(page)
    with use_model(ui, llm, "slow"):
        box = page.locator("#question textarea")
        box.fill("What is specification gaming?")
        box.press("Enter")
        page.locator("#stop").wait_for()  # answering: Stop is offered, Clear is not
        assert page.locator("#clear").is_disabled()
        # The retrieved passages are shown at once, while the answer is still being written.
        writing = page.locator('#sources .sources[data-turn="1"][data-state="writing"]')
        writing.wait_for()
        assert writing.locator(".source").count() >= 3 and "Writing the answer from" in writing.inner_text()

        box.fill("Where has specification gaming been observed?")
        box.press("Enter")
        queued = page.locator("#queued")
        queued.get_by_text("Where has specification gaming been observed?").wait_for()
        assert "Queued" in queued.inner_text()
        box.fill("a draft I am still typing")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-queued.png"))

        wait_answer(page, 2)  # both questions answered, in order
    users = page.locator('#chat [data-testid="user"]')
    assert [users.nth(i).inner_text().strip() for i in range(users.count())] == [
        "What is specification gaming?", "Where has specification gaming been observed?"]
    assert "word59" in last_answer(page).inner_text()
    assert box.input_value() == "a draft I am still typing"  # never erased by the answers streaming in
    assert queued.inner_text().strip() == ""
    box.fill("")
    clear(page)


def test_stop_keeps_what_arrived_and_marks_it_stopped(page, ui, llm):
    with use_model(ui, llm, "slow"):
        page.locator("#question textarea").fill("What is specification gaming?")
        page.locator("#ask").click()
        page.wait_for_function("document.querySelector('#chat').innerText.includes('word3')",
                               timeout=ANSWER_TIMEOUT_MS)
        page.locator("#question textarea").fill("my next question")
        page.locator("#stop").click()
        page.wait_for_selector('#sources .sources[data-turn="1"][data-state="stopped"]', timeout=ANSWER_TIMEOUT_MS)
        page.locator("#stop").wait_for(state="hidden")
    answer = last_answer(page).inner_text()
    assert "loopholes in the reward function" in answer and "word3" in answer  # what arrived is kept
    assert "word59" not in answer  # generation ended at Stop
    assert "Stopped" in answer
    panel = page.locator('#sources .sources[data-turn="1"]')
    assert "Stopped" in panel.inner_text() and panel.locator(".source").count() >= 3
    assert page.locator("#question textarea").input_value() == "my next question"
    assert not page.locator("#clear").is_disabled()
    clear(page)


def contrast(page, selector: str) -> float:
    """WCAG contrast ratio of an element's computed text colour on its computed background colour."""
    return page.evaluate(
        """(selector) => {
          const style = getComputedStyle(document.querySelector(selector));
          const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const luminance = ([r, g, b]) => {
            const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
            return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
          };
          const [a, b] = [luminance(rgb(style.color)), luminance(rgb(style.backgroundColor))];
          return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        selector,
    )


@pytest.mark.parametrize(("theme", "width"), [("light", 1400), ("dark", 1400), ("light", 390), ("dark", 390)])
def test_highlight_and_answer_states_are_readable_in_both_themes(browser, ui, requests_seen, theme, width):
    page = new_page(browser, requests_seen, ui, width=width, height=900, theme=theme)
    try:
        is_dark = page.evaluate("document.querySelector('.dark') !== null")
        assert is_dark == (theme == "dark")
        turn = ask(page, "What is specification gaming?")
        mark = f"#cite-{turn}-1 mark"
        page.locator(mark).first.scroll_into_view_if_needed()
        assert contrast(page, mark) >= 4.5
        assert contrast(page, f'.sources[data-turn="{turn}"] .state.verified') >= 4.5
        page.locator(f"#cite-{turn}-1").screenshot(path=str(ARTIFACTS / f"ui-highlight-{theme}-{width}.png"))
        not_found = ask(page, "What is the boiling point of liquid nitrogen in Fahrenheit?")
        assert contrast(page, f'.sources[data-turn="{not_found}"] .state.not-found') >= 4.5
    finally:
        page.context.close()


def test_copy_puts_plain_text_with_numbered_sources_on_the_clipboard(browser, ui, requests_seen):
    page = new_page(browser, requests_seen, ui)
    try:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui.url.rstrip("/"))
        ask(page, "What is specification gaming?")
        answer = last_answer(page)
        answer.hover()
        page.locator("#chat").get_by_role("button", name="Copy message").last.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "<a" not in copied and "cite-ref" not in copied and "&amp;" not in copied
        text, sources = copied.split("\n\nSources:\n")
        assert "Specification gaming" in text and "[1]" in text
        assert sources.splitlines()[0].startswith("[1] AI Alignment Overview")
        assert "ai-alignment-overview.txt" in sources.splitlines()[0]
    finally:
        page.context.close()


def test_unverified_answer_is_told_apart_and_names_its_sentences(page, ui, llm):
    clear(page)
    with use_model(ui, llm, "unverified"):
        turn = ask(page, "What is specification gaming?")
    panel = page.locator(f'#sources .sources[data-turn="{turn}"]')
    state = panel.locator(".state")
    assert state.get_attribute("class") == "state unverified"
    assert "Answered, but not verified" in state.inner_text()
    assert "Bananas are a popular fruit in tropical countries." in state.locator("li").inner_text()
    assert "documents don't answer" not in panel.inner_text()
    page.screenshot(path=str(ARTIFACTS / "ui-unverified.png"))
    clear(page)


def test_code_in_an_answer_shows_as_written_in_a_code_block(page, ui, llm):
    # "[3, 4, 5]" in quoted code is a list, not three citations; markup inside code is shown, never run.
    clear(page)
    with use_model(ui, llm, "code"):
        turn = ask(page, "What is specification gaming?")
    answer = page.locator('#chat [data-testid="bot"]').last
    code = answer.locator("pre code").first
    assert "[3, 4, 5]" in code.inner_text() and "<img src=x onerror=window.pwned=1>" in code.inner_text()
    assert page.evaluate("window.pwned") is None
    links = answer.locator("a.cite-ref")
    assert {links.nth(i).inner_text() for i in range(links.count())} == {"[1]"}
    assert page.locator(f'#sources .sources[data-turn="{turn}"] .source').count() >= 1
    clear(page)


def test_markdown_passages_read_as_the_document_shows_them(page):
    turn = ask(page, "What is a corrigible AI?")
    cited = page.locator(f'#sources .sources[data-turn="{turn}"] .source').first
    assert "ai-alignment-starter-pack.md" in cited.inner_text()
    text = page.locator(f'#sources .sources[data-turn="{turn}"]').inner_text()
    for raw in ("<!---->", "]: http", "|---", "][", "**"):
        assert raw not in text, raw
    assert "allows itself to be corrected" in cited.locator("mark").all_inner_texts()[0] or any(
        "corrected" in part for part in cited.locator("mark").all_inner_texts())
    rendered = page.locator(f'#sources .sources[data-turn="{turn}"] .passage.rendered')
    assert rendered.count() >= 1 and rendered.locator("a[href^='http']").count() >= 1  # links are links
    clear(page)


def test_earlier_answers_citations_show_their_own_sources(page):
    first = ask(page, "What is specification gaming?")
    second = ask(page, "What is a corrigible AI?")
    assert not page.locator(f"#cite-{first}-1").is_visible()  # the panel shows the latest answer
    page.locator(f'#chat a.cite-ref[href="#cite-{first}-1"]').first.click()
    page.wait_for_selector(f"#cite-{first}-1.flash")
    assert page.locator(f"#cite-{first}-1").is_visible()
    assert "ai-alignment-overview.txt" in page.locator(f"#cite-{first}-1").inner_text()
    assert not page.locator(f"#cite-{second}-1").is_visible()
    page.locator(f'#chat a.cite-ref[href="#cite-{second}-1"]').first.click()
    page.wait_for_selector(f"#cite-{second}-1.flash")
    assert page.locator(f"#cite-{second}-1").is_visible() and not page.locator(f"#cite-{first}-1").is_visible()
    clear(page)


def box(locator) -> dict:
    return locator.bounding_box()


def test_phone_width_layout(browser, ui, requests_seen):
    page = new_page(browser, requests_seen, ui, width=390, height=844)
    try:
        turn = ask(page, "What is specification gaming?")
        question = box(page.locator("#question"))
        assert question["width"] >= 0.8 * 390  # the question box gets the whole width
        chat, sources = box(page.locator("#chat")), box(page.locator("#sources-column"))
        assert chat["y"] + chat["height"] <= sources["y"] + 1  # sources come right after the conversation
        assert sources["y"] < question["y"]
        within = box(page.locator("#within"))
        assert question["y"] < within["y"] and chat["y"] < within["y"]  # the filter stays with the question box
        assert page.locator(f"#cite-{turn}-1").is_visible()
        assert not page.locator("#chat").get_by_text("Conversation", exact=True).is_visible()
        buttons = [box(b) for b in page.locator("#chat button").all() if b.is_visible()]
        for i, first in enumerate(buttons):  # no icon sits over another (the copy icon was over the trash icon)
            for second in buttons[i + 1:]:
                overlap_x = min(first["x"] + first["width"], second["x"] + second["width"]) - max(first["x"], second["x"])
                overlap_y = min(first["y"] + first["height"], second["y"] + second["height"]) - max(first["y"], second["y"])
                assert overlap_x <= 0 or overlap_y <= 0, (first, second)
        footer = page.locator("footer").inner_text()
        assert "Settings" not in footer  # Gradio's own settings link would clash with our Settings tab
        page.screenshot(path=str(ARTIFACTS / "ui-phone.png"), full_page=True)
    finally:
        page.context.close()


def test_documents_tab_confirms_removal_and_the_chat_tab_counts_documents(page, ui):
    page.get_by_role("tab", name="Chat").click()
    count = len(ui.assistant.documents())
    status = page.locator("#chat-status")
    status.get_by_text(f"{count} indexed documents").wait_for()
    (ui.corpus / "heron-notes.md").write_text("# Heron notes\n\nThe grey heron waits motionless in the reeds.\n")
    # Gradio's progress overlay (its status tracker, "wrap … full") is watched for on the table from the moment the
    # link opens the tab (its refresh of the table) to the end of the index run.
    page.evaluate("""() => { window.tableCovered = false; new MutationObserver(() => {
            if (document.querySelector('#documents-table .wrap.full:not(.hide)')) window.tableCovered = true; })
        .observe(document.body, {subtree: true, childList: true, attributes: true}); }""")
    page.locator("#to-documents").click()  # the link to add more opens the Documents tab
    page.locator("#reindex").wait_for()
    assert page.locator("#upload").is_visible()
    page.locator("#reindex").click()
    page.wait_for_function("document.querySelector('#index-report').innerText.includes('heron-notes.md')",
                           timeout=ANSWER_TIMEOUT_MS)
    assert not page.evaluate("window.tableCovered"), "a progress overlay covered the documents table"
    table = page.locator("#documents-table")
    for header in ("chunks", "size", "indexed at"):
        assert header in table.inner_text()
    # A row click chooses the document, shown in the dropdown once the server has answered the click (a Remove
    # pressed before that asks about none). The first click right after the re-index counts: the run's progress
    # shows over its report only, not over the table, where it swallowed the click until it faded.
    table.get_by_text("heron-notes.md").click()
    page.wait_for_function("document.querySelector('#remove-source input').value.includes('heron-notes.md')",
                           timeout=10_000)
    page.locator("#remove").click()
    question = page.locator("#remove-question")
    question.get_by_text("heron-notes.md").wait_for()
    assert "and its file deleted" in question.inner_text() and "Remove it?" in question.inner_text()
    page.locator("#remove-cancel").click()
    question.wait_for(state="hidden")
    assert (ui.corpus / "heron-notes.md").exists() and "heron-notes.md" in table.inner_text()

    page.locator("#remove").click()
    page.locator("#remove-yes").click()
    page.wait_for_function("document.querySelector('#index-report').innerText.includes('deleted its file')",
                           timeout=ANSWER_TIMEOUT_MS)
    assert not (ui.corpus / "heron-notes.md").exists()
    page.locator("#remove-confirm").wait_for(state="hidden")
    page.get_by_role("tab", name="Chat").click()
    status.get_by_text(f"{count} indexed documents").wait_for()


def test_settings_say_their_scope_show_the_effective_model_and_save_to_rag_toml(page, ui, tmp_path, monkeypatch):
    import tomllib

    config = tmp_path / "rag.toml"
    config.write_text("# team settings\ntop_k = 5\n", encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))  # the server runs in this process: it saves here
    original = ui.assistant.settings
    try:
        page.get_by_role("tab", name="Settings").click()
        scope = page.locator("#settings-scope").inner_text()
        assert "whole server" in scope and "restart" in scope and "Save to rag.toml" in scope
        page.locator("#backend input").click()
        page.get_by_role("option", name="ollama").click()
        page.locator("#apply-settings").click()
        summary = page.locator("#settings-summary")
        summary.get_by_text("Applied at").wait_for()
        assert "llama3.2, the backend's default" in summary.inner_text()  # not "backend default"
        assert "backend default" not in summary.inner_text().replace("backend's default", "")
        page.locator("#save-settings").click()
        page.locator("#save-report").get_by_text("Saved to").wait_for()
        saved = tomllib.loads(config.read_text(encoding="utf-8"))
        assert saved["backend"] == "ollama" and config.read_text(encoding="utf-8").startswith("# team settings")
        page.screenshot(path=str(ARTIFACTS / "ui-settings.png"), full_page=True)
    finally:
        ui.assistant.settings = original


def test_citation_opens_the_whole_document_at_the_cited_span(page, ui):
    turn = ask(page, "What is a corrigible AI?")
    cited = page.locator(f"#cite-{turn}-1")
    quoted = cited.locator("mark").first.inner_text()
    with page.context.expect_page() as opened:
        cited.locator("a.open-doc").click()
    view = opened.value
    try:
        view.wait_for_load_state()
        assert urlsplit(view.url).hostname == "127.0.0.1" and "/document/" in view.url
        mark = view.locator("mark#cited")
        assert quoted.split()[0] in mark.inner_text()
        assert mark.is_visible() and view.evaluate(
            "(() => { const r = document.getElementById('cited').getBoundingClientRect();"
            " return r.top >= 0 && r.top < innerHeight; })()")  # scrolled to the span
        text = view.locator("main").inner_text()
        assert "AI alignment starter pack" in view.locator("header").inner_text()
        assert "Recommended resources" in text and "my gut feeling ends up being right" in text  # the whole document, not one passage
        for raw in ("<!---->", "]: http"):
            assert raw not in text
        view.screenshot(path=str(ARTIFACTS / "ui-document-view.png"))
    finally:
        view.close()
    assert page.request.get(ui.url + "document/0123456789ab").status == 404
    assert page.request.get(ui.url + "document/..%2F..%2Fetc%2Fpasswd").status == 404
    clear(page)


@pytest.mark.parametrize(("theme", "width"), [("light", 1400), ("dark", 390)])
def test_pdf_citation_opens_its_page_beside_the_highlighted_text(browser, ui, requests_seen, tmp_path, theme, width):
    from test_load import make_pdf

    paper = ui.corpus / f"axolotl-{theme}-{width}.pdf"
    paper.write_bytes(make_pdf([["Axolotl report", "Introduction to the survey of lake habitats."],
                                ["Axolotls in Lake Xochimilco regrow lost limbs within nine weeks."]],
                               title="Axolotl report"))
    ui.assistant.index([paper])
    page = new_page(browser, requests_seen, ui, width=width, height=900, theme=theme)
    try:
        turn = ask(page, "How quickly do axolotls regrow limbs?")
        cited = page.locator(f"#cite-{turn}-1")
        assert "page 2" in cited.inner_text()
        with page.context.expect_page() as opened:
            cited.locator("a.open-doc").click()
        view = opened.value
        view.wait_for_load_state()
        image = view.locator(".pdf-page img")
        assert image.get_attribute("src").endswith("/page/2.png")
        view.wait_for_function("document.querySelector('.pdf-page img').naturalWidth > 600")  # rendered, served
        assert "nine weeks" in view.locator("mark#cited").inner_text()
        if width > 800:  # side by side: the page left of the highlighted text
            shown = image.bounding_box()
            assert shown["x"] + shown["width"] <= view.locator("mark#cited").bounding_box()["x"]
        view.screenshot(path=str(ARTIFACTS / f"ui-pdf-page-{theme}-{width}.png"))
        if (theme, width) == ("light", 1400):
            view.screenshot(path=str(REPO / "docs" / "ui-pdf-page.png"))
        view.close()
        doc = urlsplit(cited.locator("a.open-doc").get_attribute("href")).path  # document/<id>
        assert page.request.get(ui.url + doc + "/page/3.png").status == 404  # a page the PDF lacks
        assert page.request.get(ui.url + doc + "/page/0.png").status == 404
    finally:
        page.context.close()
        paper.unlink()
        ui.assistant.index()


def test_conversations_persist_in_the_browser_with_new_open_and_delete(browser, ui, requests_seen):
    page = new_page(browser, requests_seen, ui)
    try:
        ask(page, "What is specification gaming?")
        history = page.locator("#history")
        history.get_by_text("What is specification gaming?").wait_for()
        page.reload()  # the conversation comes back from localStorage
        page.locator('#chat [data-testid="bot"]').first.wait_for()
        assert "Specification gaming" in last_answer(page).inner_text()
        page.locator("#cite-1-1").wait_for(state="attached")  # with its sources, so its [1] still works
        stored = page.evaluate("localStorage.getItem('rag-conversations')")
        assert stored and "Specification gaming" not in stored  # kept encrypted

        page.locator("#new-chat").click()
        page.wait_for_function("document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
        ask(page, "What is a corrigible AI?")
        history.get_by_text("What is a corrigible AI?").wait_for()
        titles = history.locator("label").all_inner_texts()
        assert [t.strip() for t in titles] == ["What is a corrigible AI?", "What is specification gaming?"]
        page.screenshot(path=str(ARTIFACTS / "ui-conversations.png"))

        history.get_by_text("What is specification gaming?").click()
        page.wait_for_function("document.querySelector('#chat').innerText.includes('CoastRunners') || "
                               "document.querySelector('#chat').innerText.includes('Specification gaming')")
        page.locator('#chat a.cite-ref[href="#cite-1-1"]').first.click()
        page.wait_for_selector("#cite-1-1.flash")
        assert "ai-alignment-overview.txt" in page.locator("#cite-1-1").inner_text()

        page.locator("#delete-chat").click()
        history.get_by_text("What is specification gaming?").wait_for(state="detached")
        assert "corrigible" in page.locator("#chat").inner_text().lower()  # the newest one left is opened
        page.reload()
        page.locator("#history").get_by_text("What is a corrigible AI?").wait_for()
        assert page.locator("#history").get_by_text("What is specification gaming?").count() == 0
    finally:
        page.context.close()


def test_ask_within_chosen_documents(page, ui):
    from gradio_client import Client

    clear(page)
    page.locator("#within input").click()
    page.get_by_role("option", name="ai-alignment-starter-pack.md").click()
    page.keyboard.press("Escape")
    turn = ask(page, "What is specification gaming?")
    panel = page.locator(f'#sources .sources[data-turn="{turn}"]')
    sources = {text.strip() for text in panel.locator(".source-head code").all_inner_texts()}
    assert sources == {"ai-alignment-starter-pack.md"}  # retrieval stayed inside the chosen document
    page.locator("#within").get_by_role("button", name=re.compile("remove|clear", re.I)).first.click()
    clear(page)

    from rag.api import document_id  # the API takes the same filter (document ids)

    chosen = [document_id(r) for r in ui.assistant.documents() if r.source == "ai-alignment-overview.txt"]
    _box, _chat, _sources, answer = Client(ui.url, verbose=False).predict(
        "What is a corrigible AI?", [], chosen, api_name="/ask")
    assert {c["source"] for c in answer["citations"]} | {h["source"] for h in answer["retrieved"]} == {
        "ai-alignment-overview.txt"}


def test_healthz_says_whether_the_index_is_loaded(page, ui):
    response = page.request.get(ui.url + "healthz")
    assert response.status == 200 and response.json() == {"status": "ok", "index_loaded": True}


def test_no_request_leaves_localhost(page, requests_seen):
    assert requests_seen, "the browser recorded no requests at all"
    outside = [
        url for url in requests_seen
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname not in ("127.0.0.1", "localhost")
    ]
    assert not outside, outside
    # No font or CDN host (the first check catches any other; a local URL's path or query, say a random session hash,
    # may spell "cdn" by chance: reading whole URLs failed a clean CI run once).
    hosts = [urlsplit(url).hostname or "" for url in requests_seen]
    assert not any(re.search(r"fonts\.(googleapis|gstatic)\.com|cdn", host) for host in hosts), hosts
