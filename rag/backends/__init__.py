"""The one registry of answer backends: a setting name maps to a backend factory.

Every backend implements :class:`AnswerBackend`, so the answer pipeline has one path. ``extractive``
composes answers from passage sentences and needs nothing but the index. The others (``local``,
``openai``, ``ollama``) are LangChain chat models wrapped in :class:`ChatBackend`, which turns every
client failure into a one-line :class:`BackendError` naming the setting to fix, so the CLI and UI can
show it instead of a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rag.errors import UserError
from rag.prompt import answer_messages, parse_rewrite, rewrite_messages
from rag.text import one_line

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

    from rag.config import Settings
    from rag.embed import Embedder
    from rag.passage import Passage
    from rag.question import Question


class BackendError(UserError, RuntimeError):
    """An answer backend is unreachable, misconfigured or too slow; ``str(exc)`` is one actionable line."""


@runtime_checkable
class AnswerBackend(Protocol):
    """What the answer pipeline needs of a backend; every backend in the registry implements it."""

    name: str

    def answer(self, question: Question, passages: Sequence[Passage], embedder: Embedder) -> Iterator[str]:
        """Text deltas of an answer to ``question`` (its text, type and focus: rag/question.py) drawn from
        ``passages``, citing ``passages[i]`` as [i+1]. The pipeline checks what it cites (rag/citations.py)."""
        ...

    def rewrite(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        """A standalone search query for a follow-up ``question``, or None to let the pipeline build one."""
        ...


# name -> "module:factory"; factories take Settings and return a backend. Imports stay lazy so that
# choosing ``extractive`` never loads an LLM client library.
_REGISTRY: dict[str, str] = {
    "extractive": "rag.backends.extractive:build",
    "local": "rag.backends.local:build",
    "openai": "rag.backends.openai_compat:build",
    "ollama": "rag.backends.ollama_native:build",
}
BACKEND_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_backend(name: str, settings: Settings) -> AnswerBackend:
    """The backend called ``name`` (``settings.backend`` when empty), configured from ``settings``."""
    name = (name or settings.backend).strip().lower()
    if name not in _REGISTRY:
        raise BackendError(f"unknown backend {name!r}; set RAG_BACKEND to one of: {', '.join(BACKEND_NAMES)}")
    module_name, factory = _REGISTRY[name].split(":")
    build: Callable[[Settings], AnswerBackend] = getattr(importlib.import_module(module_name), factory)
    return build(settings)


def effective_model(settings: Settings) -> str:
    """The model the configured backend answers with: ``llm_model``, or that backend's own default
    (``DEFAULT_MODEL``, or the bundled ``DEFAULT_GGUF`` file for ``local``); empty for ``extractive``."""
    if settings.backend == "extractive":
        return ""
    if settings.llm_model:
        return settings.llm_model
    module = importlib.import_module(_REGISTRY[settings.backend].split(":")[0])
    return getattr(module, "DEFAULT_MODEL", "") or getattr(module, "DEFAULT_GGUF", "")


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

    def __init__(self, name: str, model: BaseChatModel, describe_error: Callable[[BaseException], str]):
        self.name = name
        self.model = model
        self._describe_error = describe_error

    def answer(self, question: Question, passages: Sequence[Passage], embedder: Embedder) -> Iterator[str]:
        """The model's reply to the passages and the question, streamed (the embedder is not needed)."""
        return self.stream(answer_messages(question.text, passages))

    def rewrite(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        return parse_rewrite(self.complete(rewrite_messages(question, history)))

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
