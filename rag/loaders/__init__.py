"""The one registry of document loaders: a file suffix maps to the module that reads that format.

A loader is a module-level ``load(source, data) -> Document`` that raises :class:`SkipFile` with a
reason for input it cannot index. Adding a format is one new module here and one line in
``_REGISTRY``. Imports stay lazy so that indexing a folder of text never imports python-docx or pypdf.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from rag.loaders.common import Document, SkipFile, one_line

Loader = Callable[[str, bytes], Document]

# suffix (lower case) -> module whose ``load`` reads it
_REGISTRY: dict[str, str] = {
    ".txt": "rag.loaders.plain",
    ".md": "rag.loaders.markdown",
    ".markdown": "rag.loaders.markdown",
    ".html": "rag.loaders.html_page",
    ".htm": "rag.loaders.html_page",
    ".pdf": "rag.loaders.pdf",
    ".docx": "rag.loaders.word",
    ".pptx": "rag.loaders.slides",
    ".csv": "rag.loaders.delimited",
    ".tsv": "rag.loaders.delimited",
    ".xlsx": "rag.loaders.workbook",
    ".epub": "rag.loaders.epub",
    ".rst": "rag.loaders.rst",
    ".org": "rag.loaders.org",
}
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(_REGISTRY)

__all__ = ["SUPPORTED_SUFFIXES", "Document", "Loader", "SkipFile", "load_document"]


def load_document(path: Path, source: str, data: bytes) -> Document:
    """Load one file; raises SkipFile (never anything else) for input that cannot be indexed."""
    suffix = path.suffix.lower()
    if suffix not in _REGISTRY:
        raise SkipFile(
            f"unsupported file type {suffix or '(no suffix)'!r}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        )
    try:
        load: Loader = importlib.import_module(_REGISTRY[suffix]).load
    except ImportError as exc:  # a broken install: say which package, not "unreadable file"
        raise SkipFile(f"reading {suffix} files needs the Python package {exc.name!r}; reinstall rag") from None
    try:
        return load(source, data)
    except SkipFile:
        raise
    except RecursionError:
        raise SkipFile("structure nested too deeply to read") from None
    except MemoryError:
        raise SkipFile("too large to read into memory") from None
    except Exception as exc:  # a parser bug or hostile input must cost one file, not the whole index run
        detail = f"{type(exc).__name__}: {one_line(str(exc), 200)}"
        raise SkipFile(f"unreadable {suffix[1:].upper()} file ({detail})") from None
