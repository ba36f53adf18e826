"""The UI's handlers as plain functions over an Assistant and a role: no Gradio server involved."""

from __future__ import annotations

import threading

import pytest

from rag.auth import PermissionDenied
from rag.ui import (
    apply_settings,
    ask_turns,
    backend_fields,
    collection_choices,
    documents_view,
    reindex,
    remove_document,
    settings_view,
    upload_files,
)


def test_backend_fields_rule():
    assert backend_fields("extractive") == {"llm_model": False, "openai_base_url": False, "openai_api_key": False,
                                            "ollama_base_url": False}
    assert backend_fields("openai") == {"llm_model": True, "openai_base_url": True, "openai_api_key": True,
                                        "ollama_base_url": False}
    assert backend_fields("ollama") == {"llm_model": True, "openai_base_url": False, "openai_api_key": False,
                                        "ollama_base_url": True}


def test_reader_and_anonymous_are_refused_editing(fresh_assistant, tmp_path):
    note = tmp_path / "n.md"
    note.write_text("# N\n\nA note.\n")
    before = fresh_assistant.settings
    for role in ("reader", None):
        with pytest.raises(PermissionDenied):
            upload_files(fresh_assistant, role, [str(note)])
        with pytest.raises(PermissionDenied):
            reindex(fresh_assistant, role)
        with pytest.raises(PermissionDenied):
            remove_document(fresh_assistant, role, "abc")
        with pytest.raises(PermissionDenied):
            apply_settings(fresh_assistant, role, "openai", "", "http://127.0.0.1:9/v1", "", "", 3, "bm25")
    with pytest.raises(PermissionDenied):
        next(ask_turns(fresh_assistant, None, "hello?", []))
    assert fresh_assistant.settings is before
    assert list(fresh_assistant.settings.corpus_dir.iterdir()) == []


def test_editor_uploads_lists_and_removes_by_id(fresh_assistant, tmp_path):
    note = tmp_path / "heron.md"
    note.write_text("# Heron\n\nThe grey heron stood in the reeds for an hour.\n")
    report = upload_files(fresh_assistant, "editor", [str(note)])
    assert "added: `heron.md`" in report
    view = documents_view(fresh_assistant, "reader")
    assert [row[1] for row in view.table] == ["heron.md"] and view.choices == [("heron.md", view.table[0][-1])]
    assert "deleted its file" in remove_document(fresh_assistant, "editor", view.table[0][-1])
    assert documents_view(fresh_assistant, "reader").table == []


def test_an_upload_into_a_collection_removed_meanwhile_says_so(fresh_assistant, tmp_path):
    fresh_assistant.create_collection("birds")
    birds = fresh_assistant.collection("birds")  # the page chose it before another editor removed it
    fresh_assistant.remove_collection("birds")
    note = tmp_path / "emu.md"
    note.write_text("# Emu\n\nThe emu is the tallest native bird of Australia.\n")
    assert upload_files(birds, "editor", [str(note)]) == (
        "Not uploaded: the collection was removed; upload to another one")
    assert collection_choices(fresh_assistant, "reader") == ["default"]


def test_apply_settings_clears_a_key_when_the_url_changes(fresh_assistant):
    fresh_assistant.update_settings(openai_api_key="sk-old")
    view = apply_settings(fresh_assistant, "editor", "openai", "", "http://127.0.0.1:9/v1", "", "", 4, "dense")
    assert fresh_assistant.settings.openai_api_key.get_secret_value() == ""
    assert "key set for the old URL was cleared" in view.summary and view.key_hint == "(no key set)"
    assert view.visible["openai_api_key"] and not view.visible["ollama_base_url"]

    apply_settings(fresh_assistant, "editor", "openai", "", "http://127.0.0.1:8/v1", "sk-new", "", 4, "dense")
    assert fresh_assistant.settings.openai_api_key.get_secret_value() == "sk-new"
    view = apply_settings(fresh_assistant, "editor", "openai", "", "http://127.0.0.1:8/v1", "", "", 2, "bm25")
    assert fresh_assistant.settings.openai_api_key.get_secret_value() == "sk-new"  # same URL keeps its key
    assert "cleared" not in view.summary and settings_view(fresh_assistant, "reader").top_k == 2


def test_concurrent_settings_updates_never_pair_a_key_with_another_url(fresh_assistant):
    """Editors racing: every observed settings object pairs each key with the URL it was given for."""
    pairs = {f"http://127.0.0.1:{9000 + i}/v1": f"sk-{i}" for i in range(8)}
    seen = []

    def editor(url, key):
        for _ in range(20):
            fresh_assistant.update_settings(openai_base_url=url, openai_api_key=key)
            fresh_assistant.update_settings(openai_base_url=url + "x")  # a URL change without key clears it
            settings = fresh_assistant.settings
            seen.append((settings.openai_base_url, settings.openai_api_key.get_secret_value()))

    threads = [threading.Thread(target=editor, args=item) for item in pairs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for url, key in seen:
        assert key == "" or pairs.get(url) == key, (url, key)


def test_bad_settings_values_are_refused(fresh_assistant):
    with pytest.raises(ValueError, match="unknown backend"):
        fresh_assistant.update_settings(backend="telepathy")
    with pytest.raises(ValueError, match="cannot change index_dir"):
        fresh_assistant.update_settings(index_dir="/tmp")


def test_markdown_passage_is_rendered_with_the_quote_highlighted_and_no_raw_markup():
    from rag.ui_html import markdown_excerpt

    document = (
        "---\ntitle: A<!---->I notes\n---\n# Notes\n\n"
        " * [Mesa optimizers][mesa] are learned A<!---->I optimizers <script>alert(1)</script>.\n"
        " * ![a chart](http://example.org/chart.png) shows <b>growth</b>.\n\n"
        "| model | year |\n|---|---|\n| GPT-2 | 2019 |\n\n"
        "[mesa]: https://example.org/mesa\n"
    )
    start = document.index("[Mesa")
    quote = (document.index(" * [Mesa"), document.index(" optimizers <script>"))
    rendered = markdown_excerpt(document, start, document.index("[mesa]:"), quote)
    for raw in ("<!--", "[mesa]", "]: http", "|---", "<script", "<img", "*"):
        assert raw not in rendered, raw
    assert '<a href="https://example.org/mesa"' in rendered and "<table>" in rendered and "<td>2019</td>" in rendered
    assert rendered.count("<li>") == 2  # the highlight starts after the bullet: still a list item
    assert "<mark>Mesa optimizers</mark></a><mark> are learned AI</mark> optimizers" in rendered
    assert "alert(1)" in rendered  # a tag's text stays as text; nothing runs


def test_markdown_source_view_shows_the_code_s_placeholders():
    # "<version>" in a code span or block is the code's text, not a tag: the source view dropped it
    from rag.ui_html import markdown_excerpt

    document = "# Pyenv\n\nRun `pyenv install <version>` first, <b>then</b> this:\n\n```\npyenv global <version>\n```\n"
    rendered = markdown_excerpt(document, 0, len(document), (document.index("Run"), document.index(" first")))
    assert "<code><mark>pyenv install &lt;version&gt;</mark></code>" in rendered
    assert "pyenv global &lt;version&gt;" in rendered and "<b>" not in rendered and "then" in rendered


def test_unverified_sentences_are_named():
    from rag.answer import Answer
    from rag.passage import Citation, Passage
    from rag.ui_html import state_banner, unverified_sentences

    passage = Passage(text="Herons fish.", start=0, end=12, section="", page=None, id=1, source="h.md", title="H")
    answer = Answer("Herons fish at dawn [1]. Herons sing opera [2]. Herons fly (unsupported by the documents).",
                    False, "openai", [Citation(1, passage, True), Citation(2, passage, False)], [], {},
                    state="unverified")
    assert unverified_sentences(answer) == ["Herons sing opera.", "Herons fly."]
    banner = state_banner(answer)
    assert 'class="state unverified"' in banner and "<li>Herons sing opera.</li>" in banner


def test_an_index_after_code_is_shown_as_written_not_linked():
    from rag.passage import Citation, Passage
    from rag.ui_html import linked_answer

    passage = Passage(text="The second item is my_list[1].", start=0, end=30, section="", page=None, id=1,
                      source="t.md", title="T")
    rendered = linked_answer("The second item is my_list[1] [1].", [Citation(1, passage, True)], turn=0)
    assert "is my_list[1] <a" in rendered and rendered.count('class="cite-ref"') == 1


def test_removal_is_previewed_and_chat_status_counts_documents(fresh_assistant, tmp_path):
    from rag.ui import chat_status, removal_question

    assert "No documents indexed yet" in chat_status(fresh_assistant, "reader")
    note = tmp_path / "egret.md"
    note.write_text("# Egret\n\nThe little egret hunts in shallow water.\n")
    upload_files(fresh_assistant, "editor", [str(note)])
    assert "**1 indexed document**" in chat_status(fresh_assistant, "reader")
    doc_id = documents_view(fresh_assistant, "reader").table[0][-1]
    question = removal_question(fresh_assistant, "editor", doc_id)
    assert "`egret.md` will be removed from the index **and its file deleted**" in question and "Remove it?" in question
    assert (fresh_assistant.settings.corpus_dir / "egret.md").exists()  # asking changes nothing
    assert removal_question(fresh_assistant, "editor", None) is None
    assert "no indexed document" in removal_question(fresh_assistant, "editor", "nope")
    with pytest.raises(PermissionDenied):
        removal_question(fresh_assistant, "reader", doc_id)
    assert documents_view(fresh_assistant, "reader").table[0][3].endswith(("bytes", "kB"))  # the size column


def test_save_settings_writes_rag_toml_for_editors_only_and_keeps_the_rest(fresh_assistant, tmp_path, monkeypatch):
    import tomllib

    from rag.ui import save_settings

    config = tmp_path / "rag.toml"
    config.write_text('top_k = 3\n\n[users.ann]\nrole = "reader"\npassword_hash = "scrypt$x"\n', encoding="utf-8")
    monkeypatch.setenv("RAG_CONFIG", str(config))
    monkeypatch.delenv("RAG_BACKEND", raising=False)
    view = apply_settings(fresh_assistant, "editor", "openai", "", "http://127.0.0.1:9/v1", "sk-never-saved", "", 6,
                          "bm25")
    assert "✓ Applied at" in view.summary and "gpt-4o-mini, the backend's default" in view.summary
    with pytest.raises(PermissionDenied):
        save_settings(fresh_assistant, "reader")
    assert "✓ Saved to" in save_settings(fresh_assistant, "editor")
    saved = tomllib.loads(config.read_text(encoding="utf-8"))
    assert (saved["backend"], saved["top_k"], saved["retrieval_mode"], saved["openai_base_url"]) == (
        "openai", 6, "bm25", "http://127.0.0.1:9/v1")
    assert saved["users"]["ann"]["role"] == "reader"  # the rest of the file is kept
    assert "sk-never-saved" not in config.read_text(encoding="utf-8")
    monkeypatch.setenv("RAG_BACKEND", "ollama")
    assert "The environment sets `RAG_BACKEND`: at restart the environment wins" in save_settings(fresh_assistant, "editor")


def test_conversations_are_kept_titled_switched_and_deleted():
    from rag.ui import MAX_CONVERSATIONS, conversation_choices, delete_conversation, open_conversation, \
        remember_conversation

    chat = [{"role": "user", "content": [{"type": "text", "text": "What is a heron?"}]},
            {"role": "assistant", "content": "A bird [1]."}]
    saved = remember_conversation("reader", None, chat, "<div>panel</div>")
    first = saved["current"]
    assert conversation_choices(saved) == [("What is a heron?", first)]
    saved, empty, panel = open_conversation("reader", saved, None)  # new chat
    assert empty == [] and "Sources for each answer" in panel and saved["current"] != first
    saved = remember_conversation("reader", saved, [{"role": "user", "content": "And an egret?"}], "<p>2</p>")
    assert [title for title, _ in conversation_choices(saved)] == ["And an egret?", "What is a heron?"]
    saved, restored, panel = open_conversation("reader", saved, first)
    assert restored == chat and panel == "<div>panel</div>"
    saved, left, _ = delete_conversation("reader", saved)
    assert [title for title, _ in conversation_choices(saved)] == ["And an egret?"] and left[0]["content"] == "And an egret?"
    for i in range(MAX_CONVERSATIONS + 5):
        saved, _, _ = open_conversation("reader", saved, None)
        saved = remember_conversation("reader", saved, [{"role": "user", "content": f"q{i}"}], "")
    assert len(saved["chats"]) == MAX_CONVERSATIONS
    with pytest.raises(PermissionDenied):
        remember_conversation(None, saved, chat, "")


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_within_chosen_documents(corpus_assistant, mode):
    from rag.api import document_id

    ids = {record.source: document_id(record) for record in corpus_assistant.documents()}
    everywhere = corpus_assistant.search("What is specification gaming?", 5, mode)
    assert "ai-alignment-overview.txt" in {hit.passage.source for hit in everywhere}
    within = corpus_assistant.search("What is specification gaming?", 5, mode,
                                     documents=[ids["ai-alignment-starter-pack.md"]])
    assert within and {hit.passage.source for hit in within} == {"ai-alignment-starter-pack.md"}
    assert corpus_assistant.search("What is specification gaming?", 5, mode, documents=[]) == []


def test_filter_by_folder_and_front_matter_tag(fresh_assistant):
    from rag.api import document_id
    from rag.ui import filter_choices

    corpus = fresh_assistant.settings.corpus_dir
    (corpus / "birds").mkdir()
    (corpus / "birds" / "heron.md").write_text("---\ntags: [wading, lakes]\n---\n# Heron\n\nThe heron wades.\n")
    (corpus / "birds" / "owl.md").write_text("---\ntags: night\n---\n# Owl\n\nThe owl hunts at night.\n")
    (corpus / "fish.md").write_text("# Fish\n\nThe pike waits in the lakes.\n")
    reindex(fresh_assistant, "editor")
    labels = dict(filter_choices(fresh_assistant, "reader"))
    assert labels["folder: birds/"] == "folder:birds" and labels["tag: wading"] == "tag:wading"
    sources = {r.source: r for r in fresh_assistant.documents()}

    def within(*choices):
        return {hit.passage.source for hit in fresh_assistant.search("lakes", 5, "bm25", documents=list(choices))}

    assert within("folder:birds") == {"birds/heron.md"}  # fish.md also says "lakes", but is not in birds/
    assert within("tag:lakes") == {"birds/heron.md"}
    assert within("tag:night") == set()  # owl.md does not mention lakes
    assert within() == set() and within("folder:") == {"birds/heron.md", "fish.md"}
    assert set(fresh_assistant.filter_documents(["tag:night", "folder:birds"])) == {
        document_id(sources[source]) for source in ("birds/owl.md", "birds/heron.md")}


def test_browser_conversation_key_is_made_once_and_kept_private(fresh_assistant):
    from rag.ui import _browser_secret

    first = _browser_secret(fresh_assistant)
    assert len(first) == 64 and _browser_secret(fresh_assistant) == first  # conversations open after a restart
    kept = fresh_assistant.settings.index_dir / "ui-browser-secret"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in kept.parent.iterdir() if p.name.startswith(".ui-browser-secret")] == []
