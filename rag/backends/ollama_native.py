"""A model served by Ollama, through its native /api/chat (streams NDJSON)."""

from __future__ import annotations

from rag.backends import ChatBackend, root_reason
from rag.config import Settings
from rag.text import one_line

DEFAULT_MODEL = "llama3.2"


def build(settings: Settings) -> ChatBackend:
    from langchain_ollama import ChatOllama

    base_url = settings.ollama_base_url.rstrip("/")
    model = settings.llm_model or DEFAULT_MODEL

    def describe(exc: BaseException) -> str:
        import httpx
        import ollama

        if isinstance(exc, httpx.TimeoutException):
            return (
                f"ollama backend: no reply from {base_url} within {settings.llm_timeout_s:g} s; "
                "check the server or raise RAG_LLM_TIMEOUT_S"
            )
        # The ollama client raises the builtin ConnectionError and drops the cause.
        if isinstance(exc, (ConnectionError, httpx.TransportError)):
            return f"ollama backend: cannot reach {base_url} ({root_reason(exc)}); check RAG_OLLAMA_BASE_URL"
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404:
                return (
                    f"ollama backend: {base_url} has no model {model!r} (run `ollama pull {model}`); "
                    "check RAG_LLM_MODEL"
                )
            return (
                f"ollama backend: {base_url} answered HTTP {exc.status_code} ({one_line(exc.error)[:200]}); "
                "check RAG_OLLAMA_BASE_URL and RAG_LLM_MODEL"
            )
        return f"ollama backend: {type(exc).__name__}: {one_line(exc)[:200]}; check RAG_OLLAMA_BASE_URL"

    chat = ChatOllama(
        model=model,
        base_url=base_url,
        temperature=settings.llm_temperature,
        num_predict=settings.llm_max_tokens,
        client_kwargs={"timeout": settings.llm_timeout_s},
    )
    return ChatBackend("ollama", chat, describe)
