"""Both embedding runtimes on the real MiniLM model: agreement, ONNX export cache, errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rag.chunk import chunk_document, embedding_text
from rag.embed import PACKAGED_MODELS, Embedder, EmbeddingModelError, _content_key, default_model_path, model_id
from rag.loaders import load_document

from conftest import CORPUS, REPO

QUESTIONS = [
    "What is specification gaming?",
    "Which organisations work on alignment research?",
    "What is inner alignment?",
    "Why is it hard to specify human values?",
    "What is scalable oversight?",
]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="session")
def onnx_embedder(onnx_cache):
    """One export per test session; later Embedders in this module reuse the cached file."""
    return Embedder(runtime="onnx", cache_dir=onnx_cache)


@pytest.fixture(scope="session")
def corpus_texts(embedder) -> list[str]:
    """What ingest embeds for the corpus: chunk texts with title and section context."""
    texts = []
    for path in sorted(CORPUS.iterdir()):
        doc = load_document(path, path.name, path.read_bytes())
        texts += [embedding_text(doc.title, c) for c in chunk_document(doc, embedder.count_tokens, 200, 32)]
    assert len(texts) > 30
    return texts


@pytest.fixture(scope="session")
def corpus_vectors(embedder, onnx_embedder, corpus_texts):
    """(onnx, torch) vectors of the corpus chunks, computed once."""
    return onnx_embedder.encode(corpus_texts), embedder.encode(corpus_texts)


def test_same_model_identity_on_both_runtimes(embedder, onnx_embedder):
    assert onnx_embedder.model_id == embedder.model_id == "all-MiniLM-L6-v2"
    assert (onnx_embedder.runtime, embedder.runtime) == ("onnx", "torch")
    assert onnx_embedder.dim == embedder.dim == 384
    assert onnx_embedder.max_tokens == embedder.max_tokens == 256


def test_token_counts_agree_and_are_not_truncated(embedder, onnx_embedder):
    long_text = (CORPUS / "core-of-the-alignment-problem.md").read_text(encoding="utf-8")
    for text in ["", "Specification gaming.", long_text]:
        assert onnx_embedder.count_tokens(text) == embedder.count_tokens(text)
    assert embedder.count_tokens("") == 2  # [CLS] [SEP]
    assert embedder.count_tokens(long_text) > 1000  # counting never stops at the 256-token window


def test_onnx_embeddings_match_torch(corpus_vectors, corpus_texts):
    ours, ref = corpus_vectors
    assert ours.shape == ref.shape == (len(corpus_texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * ref).sum(axis=1)
    # int8 per-channel weights: measured min 0.98, mean 0.99 here; per-tensor weights gave 0.92.
    assert cosine.min() >= 0.97, sorted(cosine)[:5]
    assert cosine.mean() >= 0.985


def test_onnx_finds_the_same_top_hits(embedder, onnx_embedder, corpus_vectors):
    """Brute-force search over the corpus chunks ranks alike; near-ties (measured: 0.001 apart) may swap."""
    ours, ref = corpus_vectors
    for question in QUESTIONS:
        ours_scores = ours @ onnx_embedder.encode_query(question)
        ref_scores = ref @ embedder.encode_query(question)
        top_ours, top_ref = np.argsort(-ours_scores)[:5], np.argsort(-ref_scores)[:5]
        assert top_ours[0] in top_ref[:3], question
        assert ref_scores[top_ours[0]] >= ref_scores[top_ref[0]] - 0.02, question
        assert len(set(top_ours) & set(top_ref)) >= 3, question


def test_order_is_kept_whatever_the_batching(onnx_cache, onnx_embedder, corpus_texts):
    """Texts are sorted by length for batching; results must come back in input order."""
    texts = corpus_texts[::-1][:20] + ["short", "a bit longer text than that"]
    one_by_one = np.stack([onnx_embedder.encode_query(t) for t in texts])
    small_batches = Embedder(runtime="onnx", batch_size=3, cache_dir=onnx_cache).encode(texts)
    # Activation scales are per batch, so rows agree closely (measured min 0.98), not exactly;
    # a row from another text would score 0.2-0.7.
    assert ((one_by_one * small_batches).sum(axis=1) >= 0.97).all()
    assert onnx_embedder.encode([]).shape == (0, 384)


def test_progress_bar_on_request(onnx_embedder, capsys):
    onnx_embedder.encode(["one", "two", "three"], progress=True)
    assert "3/3" in capsys.readouterr().err
    onnx_embedder.encode(["one", "two", "three"])
    assert capsys.readouterr().err == ""


def test_cached_export_is_reused(onnx_cache, onnx_embedder):
    path = onnx_embedder.onnx_path
    assert path.parent == onnx_cache and path.name.startswith("all-MiniLM-L6-v2-")
    before = path.stat()
    again = Embedder(runtime="onnx", cache_dir=onnx_cache)
    assert again.onnx_path == path
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == (before.st_mtime_ns, before.st_ino)
    assert [p.name for p in onnx_cache.iterdir()] == [path.name]  # no leftover temp files


def test_cached_onnx_path_does_not_import_torch(onnx_cache, onnx_embedder):
    code = (
        "import sys; from pathlib import Path; from rag.embed import Embedder; "
        f"e = Embedder(runtime='onnx', cache_dir=Path({str(onnx_cache)!r})); "
        "assert e.encode(['hello']).shape == (1, 384); "
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_corrupt_cache_is_rebuilt(tmp_path, onnx_embedder):
    broken = tmp_path / onnx_embedder.onnx_path.name
    data = onnx_embedder.onnx_path.read_bytes()
    broken.write_bytes(data[: len(data) // 3])  # what a disk error or a foreign copy could leave
    rebuilt = Embedder(runtime="onnx", cache_dir=tmp_path)
    assert rebuilt.onnx_path == broken and broken.stat().st_size > len(data) // 2
    text = ["Reward hacking is a form of specification gaming."]
    assert float(rebuilt.encode(text)[0] @ onnx_embedder.encode(text)[0]) > 0.999


def test_cache_is_keyed_by_model_content(tmp_path, onnx_cache, onnx_embedder):
    """A copy of the same model elsewhere reuses the export; a changed model gets its own."""
    model = tmp_path / "all-MiniLM-L6-v2"
    shutil.copytree(Path(onnx_embedder.model_path), model)
    before = onnx_embedder.onnx_path.stat().st_mtime_ns
    assert Embedder(model=str(model), runtime="onnx", cache_dir=onnx_cache).onnx_path == onnx_embedder.onnx_path
    assert onnx_embedder.onnx_path.stat().st_mtime_ns == before
    weights = model / "model.safetensors"
    key = _content_key(model, weights)
    config = model / "config.json"
    config.write_text(config.read_text().replace('"layer_norm_eps": 1e-12', '"layer_norm_eps": 1e-06'))
    assert _content_key(model, weights) != key


@pytest.mark.parametrize("runtime", ["torch", "onnx"])
def test_missing_model_is_a_clear_error(tmp_path, runtime):
    missing = tmp_path / "no-such-model"
    with pytest.raises(EmbeddingModelError, match="no-such-model") as info:
        Embedder(model=str(missing), runtime=runtime, cache_dir=tmp_path)
    assert "RAG_EMBED_MODEL" in str(info.value)


def test_incomplete_model_folder_and_unknown_runtime(tmp_path):
    (tmp_path / "half-model").mkdir()
    (tmp_path / "half-model" / "config.json").write_text("{}")
    with pytest.raises(EmbeddingModelError, match="not a complete local model folder"):
        Embedder(model=str(tmp_path / "half-model"), runtime="onnx", cache_dir=tmp_path)
    with pytest.raises(EmbeddingModelError, match="unknown embedding runtime 'tensorflow'"):
        Embedder(runtime="tensorflow")


def _packaged(tmp_path: Path, name: str, parts: int) -> list[Path]:
    """The real MiniLM folder zipped as ``name``/ and cut into ``parts`` files, each carried by an installed
    distribution "rag-test-part-00N" (a dist-info whose RECORD lists it), as PyPI packages carry a large model."""
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(Path(default_model_path()).rglob("*")):
            if file.is_file():
                zipped.write(file, f"{name}/{file.relative_to(default_model_path())}")
    whole = archive.read_bytes()
    size = -(-len(whole) // parts)
    site, carried = tmp_path / "site", []
    for number in range(1, parts + 1):
        piece = site / f"rag_test_part_{number:03d}" / "input" / f"{name}.zip.{number:03d}"
        piece.parent.mkdir(parents=True)
        piece.write_bytes(whole[(number - 1) * size : number * size])
        info = site / f"rag_test_part_{number:03d}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: rag-test-part-{number:03d}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{piece.relative_to(site).as_posix()},,\n")
        carried.append(piece)
    return carried


def test_packaged_model_is_unpacked_once_from_its_parts(tmp_path, monkeypatch, embedder):
    """A model named in the settings (embed_model = "all-mpnet-base-v2") is put together from the parts its
    packages carry, once, and embeds as the folder it was zipped from."""
    parts = _packaged(tmp_path, "minilm-packaged", 3)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    distributions = tuple(f"rag-test-part-{number:03d}" for number in range(1, 4))
    monkeypatch.setitem(PACKAGED_MODELS, "minilm-packaged", (distributions, "minilm"))
    cache = tmp_path / "cache"
    packaged = Embedder("minilm-packaged", runtime="torch", cache_dir=cache)
    assert packaged.model_path == str(cache / "minilm-packaged")
    assert packaged.model_id == model_id("minilm-packaged") == "minilm-packaged"  # an index knows it by its name
    assert np.allclose(packaged.encode(QUESTIONS), embedder.encode(QUESTIONS), atol=1e-6)
    assert [path.name for path in cache.iterdir()] == ["minilm-packaged"]  # nothing left of the unpacking
    for part in parts:
        part.unlink()
    assert Embedder("minilm-packaged", runtime="torch", cache_dir=cache).model_path == str(cache / "minilm-packaged")


def test_packaged_model_errors_name_the_fix(tmp_path, monkeypatch):
    monkeypatch.setitem(PACKAGED_MODELS, "minilm-packaged", (("rag-test-no-such-part",), "minilm"))
    fix = r"needs the package rag-test-no-such-part: pip install -e '\.\[minilm\]'"
    with pytest.raises(EmbeddingModelError, match=fix):
        Embedder("minilm-packaged", runtime="torch", cache_dir=tmp_path / "cache")
    parts = _packaged(tmp_path, "minilm-packaged", 3)
    parts[1].write_bytes(b"")  # a part lost: the rest make no zip
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    distributions = tuple(f"rag-test-part-{number:03d}" for number in range(1, 4))
    monkeypatch.setitem(PACKAGED_MODELS, "minilm-packaged", (distributions, "minilm"))
    with pytest.raises(EmbeddingModelError, match="the parts of minilm-packaged do not make one zip"):
        Embedder("minilm-packaged", runtime="torch", cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # no half-unpacked model left to be taken for a whole one
