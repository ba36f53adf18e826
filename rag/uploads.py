"""Uploaded files entering the corpus: one set of rules for the UI and the HTTP API.

A name is reduced to a safe plain file name, the type and size are checked and the bytes are loaded by
the document loader *before* anything is written, so a file the index would skip never lands in the
corpus folder; an existing file is never overwritten. Then the saved files are indexed.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.api import Assistant
from rag.auth import EDIT, Role, require
from rag.collections import UnknownCollection
from rag.ingest import IndexReport, Progress
from rag.loaders import SUPPORTED_SUFFIXES, SkipFile, load_document

UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)
REMOVED = "the collection was removed; upload to another one"


def safe_filename(name: str) -> str | None:
    """A plain file name for an upload: last path component, safe ASCII characters, not hidden."""
    base = re.split(r"[\\/]", name.strip())[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base)
    base = re.sub(r"-{2,}", "-", base).strip("-. ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem.strip("-. ")[:100]
    if not stem:
        return None
    return f"{stem}.{suffix.lower()}" if suffix else stem


def save_upload(name: str, data: bytes, folder: Path, max_bytes: int) -> tuple[Path | None, str]:
    """Store one uploaded file in ``folder``: (saved path, what happened) or (None, why it was refused).

    The file is checked with the document loader before anything is written, so a file the index would
    skip never lands in the corpus. An existing file is never overwritten: a different file with the same
    name is saved as ``name-2.ext`` (``-3`` ...).
    """
    safe = safe_filename(name)
    if safe is None:
        return None, f"{name}: refused, not a usable file name"
    suffix = Path(safe).suffix
    if suffix not in SUPPORTED_SUFFIXES:
        return None, f"{name}: refused, unsupported file type {suffix or '(none)'} (use {', '.join(UPLOAD_TYPES)})"
    if len(data) > max_bytes:
        return None, f"{name}: refused, file too large ({len(data) / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB)"
    try:
        load_document(Path(safe), safe, data)
    except SkipFile as exc:
        return None, f"{name}: refused, {exc}"
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(safe).stem
    for attempt in range(1, 1000):
        target = folder / (safe if attempt == 1 else f"{stem}-{attempt}{suffix}")
        if target.exists() or target.is_symlink():
            if target.is_file() and target.read_bytes() == data:
                return target, f"{name}: already in the corpus as {target.name}"
            continue
        if create_exclusive(target, data):
            note = "saved" if target.name == name else f"saved as {target.name}"
            if attempt > 1:
                note += f" ({safe} exists with different content)"
            return target, f"{name}: {note}"
    return None, f"{name}: refused, too many files named like {safe}"


def create_exclusive(target: Path, data: bytes) -> bool:
    """Write ``target`` whole or not at all (owner-only), never replacing a file that appeared meanwhile."""
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)  # hidden: never indexed
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


@dataclass
class Uploaded:
    saved: list[Path] = field(default_factory=list)  # files now in the corpus folder (new or already there)
    notes: list[str] = field(default_factory=list)  # one line per upload: saved, saved as, already there, refused
    report: IndexReport | None = None  # the index run over the saved files (None when nothing was saved)


def store_uploads(assistant: Assistant, role: Role | None, uploads: Sequence[tuple[str, bytes]],
                  progress: Progress | None = None) -> Uploaded:
    """Save ``(file name, bytes)`` uploads into the corpus folder and index them; editors only.
    An index failure is raised (the saved files stay, and the next index run picks them up)."""
    require(role, EDIT, "upload documents")
    folder = Path(assistant.settings.corpus_dir)
    max_bytes = int(assistant.settings.max_file_mb * 1_000_000)
    result = Uploaded()
    notify = progress or (lambda fraction, message: None)
    try:
        # Removing a collection holds its index lock: no file lands in a folder being deleted, or recreates it after.
        with assistant.store.index_lock(on_wait=lambda message: notify(0.0, message)):
            if assistant.removed:
                raise UnknownCollection(REMOVED)
            for name, data in uploads:
                target, note = save_upload(name, data, folder, max_bytes)
                result.notes.append(note)
                if target is not None:
                    result.saved.append(target)
        if result.saved:
            result.report = assistant.index(result.saved, progress=progress)
    except Exception:
        if assistant.removed:  # removed before the lock could be taken, or before the saved files were indexed
            raise UnknownCollection(REMOVED) from None
        raise
    return result
