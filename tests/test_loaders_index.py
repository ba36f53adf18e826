"""One file of every new format indexed through the real Assistant, each found by a word only it holds."""

from __future__ import annotations

import pytest

from test_loaders_epub import make_epub
from test_loaders_markup import ORG, RST
from test_loaders_office import make_docx, make_pptx
from test_loaders_tables import make_csv, make_xlsx

FILES = {
    "manual.docx": (make_docx(unique="quillwort"), "quillwort", "Field Manual", ""),
    "review.pptx": (make_pptx(unique="bramblecast"), "bramblecast", "Quarterly Review", "Slide 1: Results"),
    "people.csv": (make_csv(unique="fernwhistle").encode(), "fernwhistle", "people", "rows 7–11"),
    "budget.xlsx": (make_xlsx(unique="copperleaf"), "copperleaf", "Team Budget", "Budget > rows 33–38"),
    "lantern.epub": (make_epub(unique="glimmerwick"), "glimmerwick", "The Lantern Keeper", "Chapter One: The Harbour > The Storm"),
    "tides.rst": (RST.encode(), "saltmarrow", "The Tide Tables", "Installation"),
    "journal.org": (ORG.encode(), "thornbloom", "Garden Journal", "Planting"),
}


@pytest.fixture
def indexed(fresh_assistant):
    for name, (data, *_) in FILES.items():
        (fresh_assistant.settings.corpus_dir / name).write_bytes(data)
    report = fresh_assistant.index()
    assert sorted(report.added) == sorted(FILES) and not report.skipped
    return fresh_assistant


def test_every_format_is_indexed_and_found_by_its_own_word(indexed):
    for name, (_, word, title, section) in FILES.items():
        hits = indexed.search(f"{word}", k=3)
        top = hits[0].passage
        assert (top.source, top.title, top.section) == (name, title, section)
        assert word in top.text
        # The citation's span is where the passage is in the document text the UI shows.
        assert word in indexed.document_text(name)[top.start : top.end]


def test_uploads_accept_the_new_formats_and_refuse_broken_ones(tmp_path):
    from rag.uploads import UPLOAD_TYPES, save_upload

    assert {".docx", ".pptx", ".csv", ".xlsx", ".epub", ".rst", ".org"} <= set(UPLOAD_TYPES)
    folder = tmp_path / "corpus"
    for name, (data, *_) in FILES.items():
        saved, note = save_upload(name.upper(), data, folder, 10**7)  # suffixes are matched in any case
        assert saved is not None and saved.read_bytes() == data, note
    saved, note = save_upload("broken.docx", FILES["manual.docx"][0][:500], folder, 10**7)
    assert saved is None and note == "broken.docx: refused, corrupt DOCX file (not a readable zip archive)"
