"""`rag migrate --to milvus`: copy the local index into another store, vectors included (nothing re-embedded).

Idempotent: a document already in the target with the same content is left as it is (its file times are
updated), a changed one is replaced, and documents only the target holds are kept (another machine may have
indexed them). The copy is one change of the target: visible whole at the end, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.config import Settings
from rag.ingest import signature
from rag.store import Store, StoreError
from rag.stores import open_store

# Documents copied between two commits of the target (each commit makes the copy so far searchable).
CHECKPOINT_DOCUMENTS = 1000


@dataclass
class MigrationReport:
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # only in the target
    chunks: int = 0

    def summary(self) -> str:
        return (f"copied {len(self.copied)} documents ({self.chunks} chunks), {len(self.unchanged)} already there, "
                f"{len(self.kept)} only in the target kept")


def migrate_index(settings: Settings, to: str) -> MigrationReport:
    """Copy the local index in ``settings.index_dir`` into the ``to`` store configured in ``settings``."""
    if to == "local":
        raise StoreError("the local index is the source of a migration; choose another store with --to")
    source = Store(settings.index_dir)
    if source.generation == 0:
        raise StoreError(f"the local index in {settings.index_dir} is empty; nothing to migrate (`rag index` first)")
    target = open_store(settings, to)
    report = MigrationReport()
    with source.index_lock(), target.index_lock():  # one generation of the source, one writer of the target
        keys = signature("", 0, 0, 0).keys()  # the settings an index is bound to
        expected = {key: value for key, value in source.meta().items() if key in keys}
        target.check_signature(expected)
        present = {(record.root, record.source): record for record in target.documents()}
        with target.writer(expected, settings.exact_search_max_chunks) as writer:
            for record in source.documents():
                there = present.pop((record.root, record.source), None)
                if there is not None and there.content_hash == record.content_hash:
                    if (there.size, there.mtime_ns) != (record.size, record.mtime_ns):
                        writer.touch(record.root, record.source, record.size, record.mtime_ns)
                    report.unchanged.append(record.source)
                    continue
                content = source.document_content(record.root, record.source)
                writer.put(record.root, record.source, record.content_hash, record.size, record.mtime_ns,
                           content.title, content.metadata, content.text, content.chunks, content.vectors,
                           content.unit_vectors)
                report.copied.append(record.source)
                report.chunks += len(content.chunks)
                if len(report.copied) % CHECKPOINT_DOCUMENTS == 0:
                    writer.checkpoint()
        report.kept = sorted(source for _, source in present)
    source.close()
    target.close()
    return report
