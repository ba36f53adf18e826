"""Instruction-like text in a passage: phrases that address a language model rather than inform a reader.

Backends are told to treat passages as data, and a quoted instruction is correct quoting; this check only
lets the sources panel (and the answer JSON) tell a reader why a passage reads like a command.
"""

from __future__ import annotations

import re

# Common prompt-injection openers (OWASP LLM01 examples and the "ignore previous instructions" family).
_PATTERNS = [
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(previous|prior|above|earlier|all|any|your)\b"
    r"[^.!?\n]{0,20}\b(instructions?|prompts?|rules|directions|context|guidelines)\b",
    r"\bdisregard (the|everything) (above|before)\b",
    r"\byou are now\b",
    r"\b(system|developer) (prompt|message|instructions?)\b",
    r"\bnew instructions?\s*:",
    r"\bpretend (to be|you are)\b",
    r"\bdo not (tell|reveal|mention)\b[^.!?\n]{0,30}\b(user|instructions?|prompt)\b",
    r"\b(reveal|print|repeat|output)\b[^.!?\n]{0,30}\b(system prompt|hidden instructions?|api key|password)\b",
    r"^\s*(system|assistant)\s*:",
    r"<\|?(im_start|system|endoftext)\|?>",
]
_INSTRUCTION_LIKE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.IGNORECASE | re.MULTILINE)


def instruction_like(text: str) -> str | None:
    """The first phrase in ``text`` that reads like an instruction to a model, or None."""
    match = _INSTRUCTION_LIKE.search(text)
    return " ".join(match.group(0).split()) if match else None
