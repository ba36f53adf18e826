"""Any OpenAI-compatible chat completions server (OpenAI, vLLM, llama.cpp server, LM Studio, ...)."""

from __future__ import annotations

from rag.backends import BackendError, ChatBackend, root_reason
from rag.config import Settings
from rag.text import one_line

DEFAULT_MODEL = "gpt-4o-mini"
OFFICIAL_BASE_URL = "https://api.openai.com/v1"


def build(settings: Settings) -> ChatBackend:
    from langchain_openai import ChatOpenAI

    base_url = settings.openai_base_url.rstrip("/")
    model = settings.llm_model or DEFAULT_MODEL
    key = settings.openai_api_key.get_secret_value()  # OPENAI_API_KEY is read by the settings (config.py)
    if not key:
        if base_url == OFFICIAL_BASE_URL:
            raise BackendError(
                f"openai backend: no API key for {base_url}; set RAG_OPENAI_API_KEY (or OPENAI_API_KEY), "
                "or point RAG_OPENAI_BASE_URL at a local server"
            )
        key = "unused"  # self-hosted servers usually ignore the key, but the client insists on one

    def describe(exc: BaseException) -> str:
        import openai

        if isinstance(exc, openai.APITimeoutError):
            return (
                f"openai backend: no reply from {base_url} within {settings.llm_timeout_s:g} s; "
                "check the server or raise RAG_LLM_TIMEOUT_S"
            )
        if isinstance(exc, openai.APIConnectionError):
            return f"openai backend: cannot reach {base_url} ({root_reason(exc)}); check RAG_OPENAI_BASE_URL"
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return (
                f"openai backend: {base_url} rejected the API key (HTTP {exc.status_code}); "
                "check RAG_OPENAI_API_KEY"
            )
        if isinstance(exc, openai.NotFoundError):
            return f"openai backend: {base_url} has no model {model!r} (HTTP 404); check RAG_LLM_MODEL"
        if isinstance(exc, openai.APIStatusError):
            return (
                f"openai backend: {base_url} answered HTTP {exc.status_code} ({one_line(exc.message)[:200]}); "
                "check RAG_OPENAI_BASE_URL and RAG_LLM_MODEL"
            )
        return f"openai backend: {type(exc).__name__}: {one_line(exc)[:200]}; check RAG_OPENAI_BASE_URL"

    chat = ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=key,
        timeout=settings.llm_timeout_s,
        max_retries=1,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
    )
    return ChatBackend("openai", chat, describe)
