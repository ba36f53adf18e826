"""Collections in the browser: made and filled in the Documents tab, chosen in the chat, remembered by the
conversation, removed after a confirmation that says what is deleted; desktop and phone, light and dark."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from test_ui import ANSWER_TIMEOUT_MS, ARTIFACTS, REPO, ask, browser, last_answer, new_page  # noqa: F401
from ui_server import ui  # noqa: F401  (the shared app fixture)

QUOKKA = "# Quokka field notes\n\nThe quokka census on Plinth Island counted 4711 quokkas in a single damp afternoon.\n"
QUESTION = "How many quokkas did the census count?"


@pytest.fixture(scope="module")
def requests_seen():
    return []


def choose(page, chooser: str, name: str) -> None:
    """Pick a collection in a chooser as a user does: open the list, click the option."""
    page.locator(f"{chooser} input").click()
    page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")


def wait_chosen(page, chooser: str, name: str) -> None:
    """Wait until the chooser shows the collection."""
    page.wait_for_function("([chooser, name]) => document.querySelector(`${chooser} input`).value === name",
                           arg=[chooser, name])


def cited_sources(page, turn: int) -> set[str]:
    panel = page.locator(f'#sources .sources[data-turn="{turn}"]')
    return {text.strip() for text in panel.locator("[id^=cite-] .source-head code").all_inner_texts()}


@pytest.mark.parametrize(("theme", "width"), [("light", 1400), ("dark", 390), ("dark", 1400), ("light", 390)])
def test_collection_made_filled_asked_in_remembered_and_removed(browser, ui, requests_seen, tmp_path, theme, width):
    name = f"pets-{theme}-{width}"
    folder = ui.corpus.parent / "collections" / name
    page = new_page(browser, requests_seen, ui, width=width, height=1000, theme=theme)
    try:
        page.get_by_role("tab", name="Documents").click()
        page.locator("#new-collection textarea").fill(name)
        page.locator("#create-collection").click()
        page.locator("#collection-report").get_by_text(f"Created the collection {name}").wait_for()
        wait_chosen(page, "#documents-collection", name)
        assert (folder / "corpus").is_dir() and (folder / "index").is_dir()
        page.locator("#index-status").get_by_text("0 documents").wait_for()

        upload = tmp_path / "quokka-notes.md"
        upload.write_text(QUOKKA, encoding="utf-8")
        page.locator("#upload-files input[type=file]").set_input_files(str(upload))
        page.locator('#upload-files [data-testid="download-link"]').wait_for()
        page.locator("#upload").click()
        page.wait_for_function("document.querySelector('#index-report').innerText.includes('added: quokka-notes.md')",
                               timeout=ANSWER_TIMEOUT_MS)
        assert (folder / "corpus" / "quokka-notes.md").read_text(encoding="utf-8") == QUOKKA  # its own folder
        assert not (ui.corpus / "quokka-notes.md").exists()
        assert "quokka-notes.md" in page.locator("#documents-table").inner_text()

        page.get_by_role("tab", name="Chat").click()
        choose(page, "#collection", name)
        page.locator("#chat-status").get_by_text("1 indexed document").wait_for()  # follows the chosen collection
        turn = ask(page, QUESTION)
        assert "4711" in last_answer(page).inner_text()
        assert cited_sources(page, turn) == {"quokka-notes.md"}
        if (theme, width) == ("light", 1400):
            page.screenshot(path=str(REPO / "docs" / "ui-collections.png"))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"ui-collections-{theme}-{width}.png"))

        page.evaluate("document.querySelector('#new-chat').click()")  # in the sidebar (closed on phones)
        choose(page, "#collection", "default")
        count = len(ui.assistant.documents())
        page.locator("#chat-status").get_by_text(f"{count} indexed documents").wait_for()
        turn = ask(page, QUESTION)
        assert "quokka-notes.md" not in cited_sources(page, turn) and "4711" not in last_answer(page).inner_text()

        # The earlier conversation remembers the collection it asked in.
        page.evaluate("""() => [...document.querySelectorAll('#history label')]  // newest first: the earlier is last
                           .filter(l => l.innerText.includes('How many quokkas')).at(-1).click()""")
        wait_chosen(page, "#collection", name)
        page.locator("#chat-status").get_by_text("1 indexed document").wait_for()

        page.get_by_role("tab", name="Documents").click()
        choose(page, "#documents-collection", name)
        page.locator("#remove-collection").click()
        question = page.locator("#remove-collection-question")
        question.get_by_text("Remove it?").wait_for()
        assert "deleted" in question.inner_text() and "1 document file" in question.inner_text()
        assert f"collections/{name}" in question.inner_text()  # the folder that goes
        page.locator("#remove-collection-yes").click()
        page.locator("#collection-report").get_by_text(f"Removed the collection {name}").wait_for(
            timeout=ANSWER_TIMEOUT_MS)
        assert not folder.exists()
        wait_chosen(page, "#documents-collection", "default")
        wait_chosen(page, "#collection", "default")
    finally:
        page.context.close()


def test_default_collection_cannot_be_removed(browser, ui, requests_seen):
    page = new_page(browser, requests_seen, ui)
    try:
        page.get_by_role("tab", name="Documents").click()
        page.locator("#remove-collection").click()
        page.locator("#collection-report").get_by_text("cannot be removed").wait_for()
        assert page.locator("#remove-collection-yes").is_hidden()
    finally:
        page.context.close()


def test_named_endpoints_take_the_collection(ui, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(ui.url, verbose=False)
    message, chosen, _box = client.predict("api-pets", api_name="/create_collection")
    assert "Created the collection `api-pets`" in message and chosen == "api-pets"
    assert "exists already" in client.predict("api-pets", api_name="/create_collection")[0]
    try:
        notes = tmp_path / "quokka-notes.md"
        notes.write_text(QUOKKA, encoding="utf-8")
        report, table, _choices, status = client.predict([handle_file(str(notes))], "api-pets", api_name="/upload")
        assert "added: `quokka-notes.md`" in report and [row[1] for row in table["data"]] == ["quokka-notes.md"]
        assert "collections/api-pets/index" in status
        _box, _chat, _sources, answer = client.predict(QUESTION, [], [], "api-pets", api_name="/ask")
        assert {c["source"] for c in answer["citations"]} == {"quokka-notes.md"}
        _box, _chat, _sources, default = client.predict(QUESTION, [], api_name="/ask")  # the default collection
        assert "quokka-notes.md" not in {c["source"] for c in default["citations"]}
        _report, table, _choices, _status = client.predict("api-pets", api_name="/reindex")
        message, table, _choices, _status = client.predict(table["data"][0][-1], "api-pets", api_name="/remove")
        assert "deleted its file" in message and table["data"] == []
    finally:
        removed = client.predict("api-pets", api_name="/remove_collection")
    assert "Removed the collection `api-pets`" in removed
    assert "no collection named 'api-pets'" in client.predict("api-pets", api_name="/remove_collection")


def test_no_request_leaves_localhost(requests_seen):
    assert requests_seen
    assert {urlsplit(url).hostname for url in requests_seen if not url.startswith(("data:", "blob:"))} == {
        "127.0.0.1"}
