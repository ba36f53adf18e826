"""A scripted OpenAI-compatible model on 127.0.0.1 for the browser tests: it streams slowly (so a test can queue
a question or press Stop mid-answer), writes a claim its passages do not back (an unverified answer) or quotes
code."""

from __future__ import annotations

import json
import time

from test_backends import FACT, OFF_TOPIC, FakeServer, JSONHandler, passages
from rag.prompt import REWRITE_PROMPT

# Words of the slow answer: the fact first, then filler the test can watch arrive.
SLOW_TAIL = " ".join(f"word{i}" for i in range(60))
SLOW_PIECE_SECONDS = 0.15


def reply_for(model: str, messages: list[dict]) -> str:
    system, user = messages[0]["content"], messages[-1]["content"]
    if system == REWRITE_PROMPT:
        return "Standalone query: What is specification gaming?"
    numbered = passages(user)
    fact = next((n for n, text in numbered.items() if "loopholes" in text), 1)
    other = max(n for n in numbered if n != fact) if len(numbered) > 1 else fact
    if model == "unverified":
        return f"{OFF_TOPIC} [{other}]."
    if model == "code":  # a code block whose brackets are code, not markers, and whose markup is text
        return (f"{FACT} [{fact}].\n\n```\n>>> list(range(3, 6))\n[3, 4, 5]\n>>> print('<img src=x "
                f"onerror=window.pwned=1>')\n```\n[{fact}]")
    return f"{FACT} [{fact}]. {SLOW_TAIL}"


def scripted_handler(state: FakeServer):
    class Handler(JSONHandler):
        server_state = state

        def do_POST(self):
            body = self.read_json()
            reply = reply_for(body["model"], body["messages"])
            base = {"id": "chatcmpl-ui", "created": 0, "model": body["model"]}
            if not body.get("stream"):
                choice = {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
                payload = {**base, "object": "chat.completion", "choices": [choice],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                return self.send(200, "application/json", [json.dumps(payload).encode()])
            base["object"] = "chat.completion.chunk"
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            words = reply.split(" ")
            try:
                for i, word in enumerate(words):
                    delta = {"content": word if i == 0 else " " + word}
                    event = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    if body["model"] == "slow":
                        time.sleep(SLOW_PIECE_SECONDS)
                end = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            except (BrokenPipeError, ConnectionResetError):  # Stop closed the stream: the model stops writing
                state.requests.append(("closed", {}))

    return Handler


def start() -> FakeServer:
    return FakeServer(scripted_handler)
