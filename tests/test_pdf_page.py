"""The cited page of a PDF, rendered for the source view from the file in the corpus folder, never from
a file outside it, and only for pages the PDF has."""

from __future__ import annotations

import pytest

from rag.api import document_id
from rag.store import StoreError
from test_load import make_pdf

PAGES = [["Axolotl report", "Introduction to the survey of lake habitats."],
         ["Axolotls in Lake Xochimilco regrow lost limbs within nine weeks."]]


def ids(assistant) -> dict[str, str]:
    return {record.source: document_id(record) for record in assistant.documents()}


def test_a_pdf_page_is_rendered_from_the_corpus_file_only(fresh_assistant, tmp_path):
    import io

    from PIL import Image

    corpus = fresh_assistant.settings.corpus_dir
    (corpus / "axolotl.pdf").write_bytes(make_pdf(PAGES, title="Axolotl report"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.pdf").write_bytes(make_pdf([["The vault code is 7719."]]))
    (corpus / "linked.pdf").write_bytes(make_pdf([["A harmless page."]]))
    (corpus / "notes.md").write_text("# Notes\n\nNot a PDF at all.\n", encoding="utf-8")
    fresh_assistant.index()
    found = ids(fresh_assistant)
    (corpus / "linked.pdf").unlink()  # swapped, after indexing, for a link to a file outside the corpus
    (corpus / "linked.pdf").symlink_to(outside / "secret.pdf")

    png = fresh_assistant.pdf_page(found["axolotl.pdf"], 2)
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        assert image.width > 600 and image.getextrema() != ((255, 255), (255, 255), (255, 255))  # text drawn
    for doc_id, page, reason in ((found["axolotl.pdf"], 3, "no page 3"), (found["linked.pdf"], 1, "corpus folder"),
                                 (found["notes.md"], 1, "no PDF file"), ("0" * 12, 1, "no indexed document")):
        with pytest.raises(StoreError, match=reason):
            fresh_assistant.pdf_page(doc_id, page)


def test_a_page_opened_again_is_not_rendered_again_unless_its_file_changed(fresh_assistant):
    from rag.loaders.pdf import _render_page

    corpus = fresh_assistant.settings.corpus_dir
    pdf = corpus / "axolotl.pdf"
    pdf.write_bytes(make_pdf(PAGES, title="Axolotl report"))
    fresh_assistant.index()
    doc_id = ids(fresh_assistant)["axolotl.pdf"]

    first = fresh_assistant.pdf_page(doc_id, 1)
    rendered = _render_page.cache_info().misses
    assert fresh_assistant.pdf_page(doc_id, 1) == first
    assert _render_page.cache_info().misses == rendered  # served from the kept pages

    pdf.write_bytes(make_pdf([["A different first page about newts."], *PAGES[1:]], title="Axolotl report"))
    changed = fresh_assistant.pdf_page(doc_id, 1)
    assert _render_page.cache_info().misses == rendered + 1 and changed != first
