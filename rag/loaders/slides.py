"""PowerPoint presentations (.pptx) with python-pptx: one section per slide, speaker notes kept.

``Document.text`` is the extracted text: per slide a "Slide N: title" heading line, then the text of
its shapes in the slide's order (tables as "Header: value · ..." rows), then "Notes: ..." for the
speaker notes. The slide number in the section is the locator a citation shows.
"""

from __future__ import annotations

import io
from pathlib import PurePosixPath

from pptx import Presentation
from pptx.shapes.group import GroupShape

from rag.loaders.archive import OFFICE_MANIFEST, office_metadata, open_zip
from rag.loaders.common import Document, TextBuilder, one_line
from rag.loaders.tables import table_lines


def load(source: str, data: bytes) -> Document:
    open_zip(data, "PPTX", OFFICE_MANIFEST)
    presentation = Presentation(io.BytesIO(data))
    builder = TextBuilder()
    first_title = ""
    for number, slide in enumerate(presentation.slides, 1):
        title_shape = slide.shapes.title
        title = one_line(title_shape.text_frame.text) if title_shape is not None else ""
        first_title = first_title or title
        builder.heading(1, f"Slide {number}: {title}" if title else f"Slide {number}")
        for shape in slide.shapes:
            if title_shape is None or shape.shape_id != title_shape.shape_id:
                _write_shape(builder, shape)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                builder.block(f"Notes: {notes.text}")
    metadata = office_metadata(presentation.core_properties)
    title = metadata.get("title") or first_title or PurePosixPath(source).stem
    return builder.document(source, title, metadata, "pptx", "(the slides have no text)")


def _write_shape(builder: TextBuilder, shape) -> None:
    if isinstance(shape, GroupShape):  # not shape_type: it raises for shapes python-pptx cannot classify
        for member in shape.shapes:
            _write_shape(builder, member)
    elif getattr(shape, "has_table", False):
        builder.rows(table_lines([[cell.text for cell in row.cells] for row in shape.table.rows]))
    elif getattr(shape, "has_text_frame", False):
        paragraphs = [paragraph.text for paragraph in shape.text_frame.paragraphs if paragraph.text.strip()]
        builder.block("\n".join(paragraphs))

