"""Ingest on a Ray cluster: files are read, loaded, chunked and embedded by a pool of Ray Data actors.

Only that stage moves to Ray. rag/ingest.py still scans, plans (unchanged files skipped, removed files
deleted, identical content copied) and writes every document from this process through the store's
writer, in checkpoints, so a Ray run and a single-process run follow the same rules and leave the same
index. Chunking counts tokens with the embedding model's tokenizer, so each actor holds the model and does
load, chunk and embed for its files; the model is loaded once per actor.

Workers read the files by their path: on a cluster of several machines the documents must be at the same
path on every node (a shared filesystem), and rag must be installed there (`pip install -e .[ray]`).
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from rag.config import Settings
from rag.embed import Embedder
from rag.errors import UserError
from rag.ingest import Prepare, SourceFile, _load_and_chunk, _prepare, _PreparedFile, embed_prepared
from rag.store import DocumentRecord

# `rag index --ray` with no address: start a Ray instance on this machine for the run.
LOCAL = "local"
# Files per actor call: small enough to spread a few hundred files over the pool, big enough that Ray's
# per-batch overhead stays small next to embedding their chunks.
FILES_PER_BATCH = 16
# Ray puts unix sockets under its temp folder (<temp>/session_<date>_<pid>/sockets/plasma_store) and a
# socket path may hold at most 107 bytes: a longer temp folder fails at start with an unclear message.
MAX_TEMP_DIR_CHARS = 42
# Ray reads the cloud provider from ~/ray_bootstrap_config.yaml; without one it probes cloud metadata
# addresses (and a public resolver) before it reads the usage-stats opt-out.
BOOTSTRAP_CONFIG = "provider:\n  type: local\n"
CLOSED_NETWORK_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
# A local instance is one node on loopback: with this off, Ray takes 127.0.0.1 as the node address instead of
# finding the outward one by a UDP connect() to 8.8.8.8 (its reading is at import, so it is set before that).
LOOPBACK_ONLY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
# How long to wait for a cluster address to accept a connection before saying nobody is there.
CONNECT_TIMEOUT_S = 5.0


def import_ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise UserError(f"Ray is not installed ({exc}); install it with `pip install -e .[ray]`") from exc
    return ray


def start_ray(address: str, workers: int, index_dir: Path) -> None:
    """Connect this process to the Ray cluster at ``address``, or with ``LOCAL`` start one on this machine
    that contacts nothing but 127.0.0.1 (README "Ray Data ingest"); does nothing when already connected."""
    os.environ.update(CLOSED_NETWORK_ENV)
    if address == LOCAL or _on_loopback(address):  # else Ray swaps 127.0.0.1 for the outward address
        os.environ.update(LOOPBACK_ONLY_ENV)
    ray = import_ray()
    if ray.is_initialized():
        return
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
    if address != LOCAL:
        _check_reachable(address)
        try:
            ray.init(address=address, **quiet)
        except Exception as exc:  # ConnectionError, a version mismatch, a refused Ray Client handshake
            raise UserError(f"cannot connect to the Ray cluster at {address}: {_one_line(exc)}") from exc
        return
    temp_dir = ray_temp_dir(index_dir)
    home = temp_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "ray_bootstrap_config.yaml").write_text(BOOTSTRAP_CONFIG, encoding="utf-8")
    # Ray's own processes (and the workers they start) inherit HOME from here; this process gets it back.
    with _environment(HOME=str(home)):
        ray.init(address="local", num_cpus=max(os.cpu_count() or 1, workers), include_dashboard=False,
                 _node_ip_address="127.0.0.1", _temp_dir=str(temp_dir), **quiet)


def ray_temp_dir(index_dir: Path) -> Path:
    """``<index>/ray`` when its path is short enough for Ray's sockets, else a short folder in the system temp."""
    inside = Path(index_dir).absolute() / "ray"
    if len(str(inside)) <= MAX_TEMP_DIR_CHARS:
        return inside
    return Path(tempfile.mkdtemp(prefix="rag-ray-"))


def ray_prepare(settings: Settings, embedder: Callable[[], Embedder]) -> Prepare:
    """The load + chunk + embed stage of rag/ingest.py on the Ray cluster the settings name, with
    ``settings.ray_workers`` actors each holding the model of ``embedder()`` (asked for once Ray is reached,
    so a wrong address fails before the model loads)."""
    if settings.ray_workers < 1:
        raise UserError(f"ray_workers must be at least 1 (it is {settings.ray_workers})")
    start_ray(settings.ray_address, settings.ray_workers, settings.index_dir)  # first: it sets Ray's environment
    ray = import_ray()
    driver_model = embedder()
    model = {"model": driver_model.model_path, "runtime": driver_model.runtime, "batch_size": driver_model.batch_size,
             "cache_dir": Path(settings.index_dir).absolute() / "models"}
    chunking = {"max_tokens": settings.chunk_tokens, "overlap": settings.chunk_overlap_tokens}

    def prepare(todo: Sequence[tuple[SourceFile, DocumentRecord | None]], stored: set, load) -> Iterator[_PreparedFile]:
        if not todo:
            return
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # written in scan order, as a single-process run does
        context.enable_progress_bars = False  # the CLI shows its own progress
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its plan and timings; failures still raise
        # cloudpickle, here and back: a SourceFile may read through a closure (rag.evaluate.corpus_sources).
        from ray import cloudpickle

        files = ray.data.from_items([{"entry": cloudpickle.dumps(entry)} for entry in todo])
        prepared = files.map_batches(
            _LoadChunkEmbed,
            fn_constructor_kwargs={"model": model, "chunking": chunking, "stored": stored},
            compute=ray.data.ActorPoolStrategy(size=settings.ray_workers),
            batch_size=FILES_PER_BATCH,
            batch_format="numpy",
        )
        yield from _results(prepared)

    return prepare


class _LoadChunkEmbed:
    """A Ray Data actor: loads the embedding model once, then reads, loads, chunks and embeds batches of files."""

    def __init__(self, model: dict, chunking: dict, stored: set):
        self.embedder = Embedder(**model)
        self.load = partial(_load_and_chunk, count_tokens=self.embedder.count_tokens, **chunking)
        self.stored = stored

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items = [_prepare(pickle.loads(entry), self.stored, self.load) for entry in batch["entry"]]
        embed_prepared(items, self.embedder)
        from ray import cloudpickle

        return {"item": np.array([cloudpickle.dumps(item) for item in items], dtype=object)}


def _results(dataset) -> Iterator[_PreparedFile]:
    """The prepared files in order, as the pool finishes them; a failure on the cluster as one line."""
    try:
        for row in dataset.iter_rows():
            yield pickle.loads(row["item"])
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"indexing on Ray failed: {_one_line(exc)}") from exc


def _host_port(address: str) -> tuple[str | None, int | None]:
    parts = urlsplit(address if "://" in address else f"//{address}")
    try:
        return parts.hostname, parts.port
    except ValueError:  # not a number
        return parts.hostname, None


def _on_loopback(address: str) -> bool:
    host = _host_port(address)[0]
    return host in ("localhost", "::1") or (host or "").startswith("127.")


def _check_reachable(address: str) -> None:
    """Fail in seconds with one line when nothing listens at ``host:port`` (Ray itself retries for minutes)."""
    host, port = _host_port(address)
    if not host or port is None:
        return  # "auto" and other forms Ray resolves itself
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise UserError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with `ray start --head` "
            "or use `rag index --ray` without an address for a local one"
        ) from exc


def _one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
