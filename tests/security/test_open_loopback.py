"""The open loopback server (no users: every caller is an editor, as before) still never lets a settings
change send the configured API key to another URL: issue 8 #1's regression test against today's server."""

from __future__ import annotations

import pytest

from servers import Recorder
from ui_server import ui  # noqa: F401  (the shared open app)

KEY = "sk-configured-for-the-official-api"


@pytest.fixture
def recorder():
    recorder = Recorder()
    yield recorder
    recorder.close()


def test_anonymous_url_change_clears_the_key_before_the_next_ask(ui, recorder):
    from gradio_client import Client

    from pydantic import SecretStr

    original = ui.assistant.settings
    ui.assistant.settings = original.model_copy(update={"openai_api_key": SecretStr(KEY)})
    try:
        anonymous = Client(ui.url, verbose=False)
        *_fields, summary = anonymous.predict("openai", "", recorder.url, "", original.ollama_base_url, 3, "hybrid",
                                              api_name="/settings")
        _box, _chat, _sources, answer = anonymous.predict("What is specification gaming?", [], api_name="/ask")
        assert "error" in answer  # the recorder answers 500
        assert recorder.seen, "the question never reached the recording server"
        assert all(KEY not in (header or "") for header in recorder.seen), recorder.seen
        assert "key set for the old URL was cleared" in summary and "API key not set" in summary
    finally:
        ui.assistant.settings = original
