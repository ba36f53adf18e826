"""Ingest on a real local Ray instance (started once for this module, with the closed-network recipe):
the same index as the single-process ingest, the same incremental rules, bad files skipped, a wrong
cluster address as one clear line."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from conftest import CORPUS, REPO, make_settings

from rag.api import Assistant
from rag.ingest_ray import LOCAL, import_ray, ray_temp_dir, start_ray

# Not imported here: start_ray sets Ray's environment before Ray is first imported.
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                                reason="the ray extra is not installed (pip install -e .[ray])")

# Enough files that both actors of the pool get batches (rag.ingest_ray.FILES_PER_BATCH files each).
NOTES = 20


@pytest.fixture(scope="module")
def twins(tmp_path_factory, embedder):
    """One folder indexed twice: in this process, and on Ray with two actors. Short paths: Ray's sockets
    live under the index folder (<tmp>/b/ray), which must stay within rag.ingest_ray.MAX_TEMP_DIR_CHARS."""
    tmp = tmp_path_factory.mktemp("r")
    folder = tmp / "docs"
    shutil.copytree(CORPUS, folder)
    for n in range(NOTES):
        (folder / f"note-{n:02d}.md").write_text(
            f"# Field note {n}\n\nObservation {n}: the {n}th otter in the river sorted {n * 7} pebbles by colour, "
            f"then the heron counted {n + 3} fish before noon.\n"
        )
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not a PDF body\n")
    (folder / "empty.txt").write_bytes(b"")
    single = Assistant(make_settings(tmp / "a"), embedder=embedder)
    settings = make_settings(tmp / "b", ray_address=LOCAL, ray_workers=2).model_copy(update={"index_dir": tmp / "b"})
    on_ray = Assistant(settings, embedder=embedder)
    assert ray_temp_dir(settings.index_dir).is_relative_to(tmp)
    start_ray(LOCAL, 2, settings.index_dir)
    try:
        reports = single.index([folder]), on_ray.index([folder])
        yield folder, single, on_ray, reports
    finally:
        import_ray().shutdown()


def assert_same_index(single: Assistant, on_ray: Assistant) -> None:
    """Same documents, same chunks (text, offsets, sections), vectors within float tolerance."""
    def documents(assistant):
        return sorted((r.source, r.content_hash, r.title, r.chunk_count) for r in assistant.documents())

    assert documents(on_ray) == documents(single)
    assert on_ray.store.spans_after(0) == single.store.spans_after(0)
    ray_vectors, single_vectors = on_ray.store.vectors_by_source(), single.store.vectors_by_source()
    assert ray_vectors.keys() == single_vectors.keys()
    for source, vectors in single_vectors.items():
        np.testing.assert_allclose(ray_vectors[source], vectors, atol=1e-5)
    # Answer-unit vectors are embedded on the actors too (stored as int8: compared at that precision).
    ray_units = on_ray.store.unit_vectors(range(on_ray.store.chunk_id_limit() + 1))
    single_units = single.store.unit_vectors(range(single.store.chunk_id_limit() + 1))
    assert ray_units and ray_units.keys() == single_units.keys()
    for key, vector in single_units.items():
        np.testing.assert_allclose(ray_units[key], vector, atol=0.01)


def same_outcome(report) -> dict:
    data = report.to_dict()
    return {key: sorted(value) if isinstance(value, list) and key != "skipped" else value for key, value in data.items()
            if key != "seconds"}


def test_ray_ingest_gives_the_single_process_index(twins):
    _, single, on_ray, (single_report, ray_report) = twins
    assert len(ray_report.added) == 3 + NOTES
    assert same_outcome(ray_report) == same_outcome(single_report)
    assert_same_index(single, on_ray)
    hit = on_ray.search("Which otter sorted pebbles by colour? 91 pebbles", k=1)[0]
    assert hit.passage.source == "note-13.md"


def test_bad_files_are_skipped_with_a_reason(twins):
    _, _, _, (single_report, ray_report) = twins
    skipped = dict(ray_report.skipped)
    assert set(skipped) == {"broken.pdf", "empty.txt"}
    assert "PDF" in skipped["broken.pdf"] and skipped["empty.txt"]
    assert ray_report.skipped == single_report.skipped


def test_ray_reindex_follows_the_incremental_rules(twins):
    folder, single, on_ray, _ = twins
    (folder / "note-03.md").write_text("# Field note 3\n\nRewritten: a kingfisher now guards the third pool.\n")
    (folder / "note-04.md").unlink()
    shutil.copy(folder / "ai-alignment-overview.txt", folder / "overview-copy.txt")

    ray_report = on_ray.index([folder])
    assert ray_report.updated == ["note-03.md"]
    assert ray_report.removed == ["note-04.md"]
    assert ray_report.added == ["overview-copy.txt"]
    copied = next(r.chunk_count for r in on_ray.documents() if r.source == "overview-copy.txt")
    assert ray_report.chunks_copied == copied  # identical content: vectors reused, not embedded
    assert ray_report.chunks_embedded == next(r.chunk_count for r in on_ray.documents() if r.source == "note-03.md")
    assert len(ray_report.unchanged) == 3 + NOTES - 2

    assert same_outcome(ray_report) == same_outcome(single.index([folder]))
    assert_same_index(single, on_ray)
    assert on_ray.search("kingfisher guards the third pool", k=1)[0].passage.source == "note-03.md"

    for bad in ("broken.pdf", "empty.txt"):  # else they are tried again each run
        (folder / bad).unlink()
    again = on_ray.index([folder])  # nothing to load: Ray is not asked
    assert not again.added and not again.updated and not again.removed and again.chunks_embedded == 0
    assert len(again.unchanged) == 3 + NOTES


def test_unreachable_ray_address_is_one_clear_line(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nSome text.\n")
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "index", str(tmp_path / "docs"), "--index-dir", str(tmp_path / "index"),
         "--embed-runtime", "torch", "--ray", f"127.0.0.1:{port}"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: no Ray cluster answers at 127.0.0.1:{port} (Connection refused); start one with `ray start --head` "
        "or use `rag index --ray` without an address for a local one"
    ]


def test_no_ray_workers_is_refused_before_ray_starts(tmp_path, embedder):
    from rag.errors import UserError

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nSome text.\n")
    assistant = Assistant(make_settings(tmp_path, ray_address=LOCAL, ray_workers=0), embedder=embedder)
    with pytest.raises(UserError, match="ray_workers must be at least 1"):
        assistant.index([tmp_path / "docs"])
    assert not (tmp_path / "index" / "ray").exists()
