"""Collections (named indexes, each with its own folders) through the Python API and the `rag` command."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from conftest import CORPUS, make_settings
from rag.errors import UserError
from test_index import run_cli

QUOKKA = "# Quokka field notes\n\nThe quokka census on Plinth Island counted 4711 quokkas in a single damp afternoon.\n"
QUOKKA_QUESTION = "How many quokkas did the census count?"


def cited_sources(assistant, question: str) -> set[str]:
    from rag.answer import final_answer

    return {citation.passage.source for citation in final_answer(assistant.ask(question)).citations}


@pytest.fixture
def two_collections(tmp_path, embedder):
    """The default collection (a copy of corpus/) and a collection `pets` holding only the quokka notes."""
    from rag.api import Assistant

    shutil.copytree(CORPUS, tmp_path / "corpus")
    assistant = Assistant(make_settings(tmp_path), embedder=embedder)
    assistant.index()
    assistant.create_collection("pets")
    pets = assistant.collection("pets")
    (tmp_path / "collections/pets/corpus/quokka-notes.md").write_text(QUOKKA)
    pets.index()
    return assistant


def test_a_collection_answers_from_its_own_documents_only(two_collections, tmp_path):
    pets = two_collections.collection("pets")
    assert pets is two_collections.collection("pets")  # one Assistant per collection, kept
    assert two_collections.collection(None) is two_collections.collection("default") is two_collections
    assert cited_sources(pets, QUOKKA_QUESTION) == {"quokka-notes.md"}
    assert "quokka-notes.md" not in cited_sources(two_collections, QUOKKA_QUESTION)
    assert [(c.name, n) for c, n in two_collections.collections()] == [("default", 3), ("pets", 1)]
    assert pets.settings.index_dir == tmp_path / "collections/pets/index"
    assert pets.collection(None) is two_collections  # any collection's Assistant reaches the others
    assert [c.name for c, _ in pets.collections()] == ["default", "pets"]


def test_answer_settings_changed_on_the_server_reach_every_collection(two_collections):
    pets = two_collections.collection("pets")
    two_collections.update_settings(top_k=2, retrieval_mode="bm25")
    assert (pets.settings.top_k, pets.settings.retrieval_mode) == (2, "bm25")
    assert pets.settings.corpus_dir != two_collections.settings.corpus_dir


def test_removing_a_collection_says_what_is_deleted_then_deletes_its_folder(two_collections, tmp_path):
    preview = two_collections.collection_removal_preview("pets")
    assert "collections/pets" in preview and "1 document file" in preview and "deleted" in preview
    assert "Removed the collection `pets`" in two_collections.remove_collection("pets")
    assert not (tmp_path / "collections/pets").exists()
    assert [c.name for c, _ in two_collections.collections()] == ["default"]
    with pytest.raises(UserError, match="no collection named 'pets'"):
        two_collections.collection("pets")
    assert len(two_collections.documents()) == 3  # the default collection is untouched


def test_an_upload_racing_the_removal_of_its_collection_never_brings_it_back(two_collections, tmp_path):
    # A request that looked the collection up just before it was removed still holds its Assistant.
    from rag.uploads import REMOVED, store_uploads

    pets = two_collections.collection("pets")
    two_collections.remove_collection("pets")
    with pytest.raises(UserError, match=REMOVED):
        store_uploads(pets, "editor", [("wombat.md", QUOKKA.replace("quokka", "wombat").encode())])
    assert not (tmp_path / "collections/pets").exists()
    # … and one waiting for the index lock while another process removes the collection: it finds it gone.
    two_collections.create_collection("birds")
    birds = two_collections.collection("birds")
    waiting, outcome = threading.Event(), []

    def upload():
        try:
            store_uploads(birds, "editor", [("emu.md", QUOKKA.replace("quokka", "emu").encode())],
                          progress=lambda fraction, message: waiting.set())
            outcome.append("uploaded")
        except UserError as exc:
            outcome.append(str(exc))

    with birds.store.index_lock():
        uploader = threading.Thread(target=upload)
        uploader.start()
        assert waiting.wait(60), "the upload did not wait for the index lock"
        shutil.rmtree(tmp_path / "collections/birds")
    uploader.join(60)
    assert outcome == [REMOVED]
    assert not (tmp_path / "collections/birds").exists()
    assert [c.name for c, _ in two_collections.collections()] == ["default"]


@pytest.mark.parametrize("name", ["../etc", "a/b", ".hidden", "-x", "", "x" * 65, "naïve", "default"])
def test_collection_names_are_letters_digits_dash_underscore(fresh_assistant, name):
    with pytest.raises(UserError):
        fresh_assistant.create_collection(name)


def test_the_default_and_configured_collections_are_never_deleted(tmp_path, embedder):
    from rag.api import Assistant

    own = {"corpus_dir": tmp_path / "mine/docs", "index_dir": tmp_path / "mine/index"}
    assistant = Assistant(make_settings(tmp_path, collections={"mine": own}), embedder=embedder)
    assert assistant.collection("mine").settings.index_dir == own["index_dir"]
    for name in ("mine", "default"):
        with pytest.raises(UserError):
            assistant.remove_collection(name)
    assert own["index_dir"].is_dir()


def test_configured_collection_names_are_checked(tmp_path):
    with pytest.raises(ValueError, match="collection name"):
        make_settings(tmp_path, collections={"../up": {"corpus_dir": "a", "index_dir": "b"}})
    with pytest.raises(ValueError, match="corpus_dir and index_dir"):
        make_settings(tmp_path, collections={"ok": {"corpus_dir": "a"}})


def test_cli_collections_create_index_search_ask_status_remove(tmp_path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    assert run_cli("index", cwd=tmp_path).returncode == 0
    created = run_cli("collections", "create", "pets", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    (tmp_path / "collections/pets/corpus/quokka-notes.md").write_text(QUOKKA)
    indexed = run_cli("index", "--collection", "pets", "--json", cwd=tmp_path)
    assert json.loads(indexed.stdout)["added"] == ["quokka-notes.md"]

    found = json.loads(run_cli("search", "quokka census", "--collection", "pets", "--json", cwd=tmp_path).stdout)
    assert {hit["source"] for hit in found} == {"quokka-notes.md"}
    answer = json.loads(run_cli("ask", QUOKKA_QUESTION, "--collection", "pets", "--json", cwd=tmp_path).stdout)
    assert {c["source"] for c in answer["citations"]} == {"quokka-notes.md"} and "4711" in answer["answer"]
    default = json.loads(run_cli("ask", QUOKKA_QUESTION, "--json", cwd=tmp_path).stdout)
    assert "quokka-notes.md" not in {c["source"] for c in default["citations"]}
    status = json.loads(run_cli("status", "--collection", "pets", "--json", cwd=tmp_path).stdout)
    assert status["documents"] == 1 and status["index_dir"] == "collections/pets/index"
    listed = json.loads(run_cli("collections", "--json", cwd=tmp_path).stdout)
    assert [(c["name"], c["documents"]) for c in listed] == [("default", 3), ("pets", 1)]

    unknown = run_cli("status", "--collection", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "no collection named 'nope'" in unknown.stderr
    tricky = run_cli("collections", "create", "../up", cwd=tmp_path)
    assert tricky.returncode == 2 and "bad collection name" in tricky.stderr and not (tmp_path / "up").exists()
    unasked = run_cli("collections", "remove", "pets", cwd=tmp_path)  # no terminal to ask on: refused
    assert unasked.returncode == 2 and "deleted" in unasked.stderr and "--yes" in unasked.stderr
    assert (tmp_path / "collections/pets/corpus/quokka-notes.md").exists()
    removed = run_cli("collections", "remove", "pets", "--yes", cwd=tmp_path)
    assert removed.returncode == 0 and not (tmp_path / "collections/pets").exists()
