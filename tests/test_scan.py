"""Folder scans that cannot look at something (a symlink loop, a dangling link, an unreadable folder or root,
a moved root) skip it with a reason and never take it for deleted: readable documents stay indexed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import make_settings
from rag.api import Assistant
from test_index import run_cli

NOTES = {
    "a.md": "# Okapi\n\nThe okapi is a giraffid native to the Congo.\n",
    "b.md": "# Axolotl\n\nThe axolotl is a salamander that keeps its gills.\n",
    "sub/c.md": "# Quokka\n\nThe quokka is a small wallaby of Rottnest Island.\n",
}


def write_notes(folder: Path) -> None:
    for name, text in NOTES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def test_symlink_loops_and_dangling_links_are_skipped_and_nothing_readable_is_removed(tmp_path):
    corpus = tmp_path / "corpus"
    write_notes(corpus)
    first = run_cli("index", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr

    os.symlink("loop.md", corpus / "loop.md")  # points at itself
    os.symlink("nowhere.md", corpus / "dangling.md")
    (corpus / "b.md").unlink()
    os.symlink("b-moved-away.md", corpus / "b.md")  # an indexed file replaced by a dangling link
    shutil.rmtree(corpus / "sub")
    os.symlink("sub", corpus / "sub")  # an indexed folder that became a symlink loop
    again = run_cli("index", "--json", cwd=tmp_path)

    assert again.returncode == 1, again.stderr  # indexed what it could; some paths need a look
    assert "Traceback" not in again.stderr
    report = json.loads(again.stdout)
    reasons = {entry["source"]: entry["reason"] for entry in report["skipped"]}
    assert "symbolic link loop" in reasons["loop.md"] and "symbolic link loop" in reasons["sub"]
    assert "missing file" in reasons["dangling.md"] and "missing file" in reasons["b.md"]
    assert report["removed"] == [] and report["unchanged"] == ["a.md"]
    assert sorted(report["kept"]) == ["b.md", "sub/c.md"]
    assert report["documents_total"] == 3

    found = run_cli("search", "salamander gills", "--json", "-k", "1", cwd=tmp_path)
    assert json.loads(found.stdout)[0]["source"] == "b.md"


@pytest.fixture
def indexed(fresh_assistant):
    write_notes(Path(fresh_assistant.settings.corpus_dir))
    assert len(fresh_assistant.index().added) == 3
    return fresh_assistant


def refuse_to_list(monkeypatch, unreadable: Path) -> None:
    """os.scandir raising PermissionError for one folder: what chmod 000 does, also when tests run as root."""
    real_scandir = os.scandir

    def scandir(path):
        if isinstance(path, (str, os.PathLike)) and Path(path) == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_unreadable_subfolder_keeps_its_documents(indexed, monkeypatch):
    corpus = Path(indexed.settings.corpus_dir).resolve()
    (corpus / "a.md").unlink()  # a real deletion elsewhere is still synced
    refuse_to_list(monkeypatch, corpus / "sub")
    report = indexed.index()
    assert report.removed == ["a.md"] and report.kept == ["sub/c.md"]
    assert report.unreadable == [str(corpus / "sub")]
    assert ("sub", "cannot read folder: Permission denied; its indexed documents are kept") in report.skipped
    assert indexed.search("wallaby Rottnest", 1)[0].passage.source == "sub/c.md"


def test_unreadable_root_removes_nothing(indexed, monkeypatch):
    corpus = Path(indexed.settings.corpus_dir).resolve()
    refuse_to_list(monkeypatch, corpus)
    report = indexed.index()
    assert report.removed == [] and sorted(report.kept) == ["a.md", "b.md", "sub/c.md"]
    assert report.unreadable == [str(corpus)]
    assert indexed.status()["documents"] == 3


def test_root_that_is_a_symlink_loop_is_reported_and_removes_nothing(indexed, tmp_path):
    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    report = indexed.index([loop])
    assert report.skipped == [(str(loop), "symbolic link loop; skipped")]
    assert report.unreadable == [str(loop)] and report.removed == []
    assert indexed.status()["documents"] == 3


def test_moved_root_is_reported_not_duplicated(tmp_path, embedder):
    old = tmp_path.resolve() / "old" / "corpus"
    write_notes(old)
    assistant = Assistant(make_settings(tmp_path), embedder=embedder)
    assert len(assistant.index([old]).added) == 3

    new = tmp_path.resolve() / "new" / "corpus"
    new.parent.mkdir()
    old.rename(new)
    moved = assistant.index([new])
    assert moved.moved_roots == [(str(old), str(new))]
    assert moved.chunks_embedded == 0 and moved.documents_total == 3
    assert f"folder {old} moved to {new}" in moved.summary()
    assert {record.root for record in assistant.documents()} == {str(new)}


def test_missing_root_without_a_new_place_is_kept_and_reported(tmp_path, embedder):
    old = tmp_path.resolve() / "drive" / "corpus"
    write_notes(old)
    assistant = Assistant(make_settings(tmp_path), embedder=embedder)
    assistant.index([old])
    shutil.rmtree(tmp_path / "drive")  # as an unmounted drive looks
    other = tmp_path / "other"
    other.mkdir()
    (other / "d.md").write_text("# Kea\n\nThe kea is an alpine parrot of New Zealand.\n")
    report = assistant.index([other])
    assert report.missing_roots == [str(old)] and report.removed == []
    assert assistant.status()["documents"] == 4
    assert "no longer exists; its documents stay searchable" in report.summary()
