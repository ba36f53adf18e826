"""The one registry of answer backends: a setting name maps to a backend factory.

Two kinds of backend exist. ``extractive`` composes answers from passage sentences and needs nothing
but the index. The others (``local``, ``openai``, ``ollama``) are LangChain chat models wrapped in
:class:`ChatBackend`, which turns every client failure into a one-line :class:`BackendError` naming the
setting to fix, so the CLI and UI can show it instead of a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from rag.config import Settings


class BackendError(RuntimeError):
    """An answer backend is unreachable, misconfigured or too slow; ``str(exc)`` is one actionable line."""


# name -> "module:factory"; factories take Settings and return a backend. Imports stay lazy so that
# choosing ``extractive`` never loads an LLM client library.
_REGISTRY: dict[str, str] = {
    "extractive": "rag.backends.extractive:build",
    "local": "rag.backends.local:build",
    "openai": "rag.backends.openai_compat:build",
    "ollama": "rag.backends.ollama_native:build",
}
BACKEND_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_backend(name: str, settings: Settings) -> Any:
    """The backend called ``name`` (``settings.backend`` when empty), configured from ``settings``."""
    name = (name or settings.backend).strip().lower()
    if name not in _REGISTRY:
        raise BackendError(f"unknown backend {name!r}; set RAG_BACKEND to one of: {', '.join(BACKEND_NAMES)}")
    module_name, factory = _REGISTRY[name].split(":")
    build: Callable[[Settings], Any] = getattr(importlib.import_module(module_name), factory)
    return build(settings)


def one_line(text: object) -> str:
    """Collapse an exception message to a single line, as BackendError promises."""
    return " ".join(str(text).split())


def root_reason(exc: BaseException) -> str:
    """The innermost cause of ``exc`` in plain words, e.g. 'connection refused'."""
    seen: set[int] = set()
    while (exc.__cause__ or exc.__context__) is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    reason = one_line(exc) or type(exc).__name__
    # "[Errno 111] Connection refused" -> "connection refused"
    if reason.startswith("[Errno") and "]" in reason:
        reason = reason.split("]", 1)[1].strip().lower()
    return reason


class ChatBackend:
    """An LLM answer backend: a LangChain chat model plus the translation of its failures."""

    uses_llm = True

    def __init__(self, name: str, model: BaseChatModel, describe_error: Callable[[BaseException], str]):
        self.name = name
        self.model = model
        self._describe_error = describe_error

    def stream(self, messages: Sequence[BaseMessage]) -> Iterator[str]:
        """Text deltas of the model's reply, as they arrive."""
        try:
            for chunk in self.model.stream(list(messages)):
                text = str(chunk.text)
                if text:
                    yield text
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(one_line(self._describe_error(exc))) from exc

    def complete(self, messages: Sequence[BaseMessage]) -> str:
        """The whole reply in one request (query rewriting has nothing to stream)."""
        try:
            return str(self.model.invoke(list(messages)).text)
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(one_line(self._describe_error(exc))) from exc
