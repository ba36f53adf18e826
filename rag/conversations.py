"""Conversations kept on the server, one file per user, when users log in (else they stay in the browser).

Each user's conversations are one JSON file in ``index_dir/conversations/``, named by a hash of the user
name (no name on disk), owner-only, replaced whole on every change. The UI only ever reads or writes the
file of the user its login cookie names, so no user can list or open another's conversations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


class ConversationStore:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def _path(self, user: str) -> Path:
        return self.folder / f"{hashlib.sha256(user.encode()).hexdigest()[:32]}.json"

    def load(self, user: str) -> dict | None:
        """The user's conversations as last saved (None: none yet). An unreadable file is set aside, never
        overwritten, so a later save starts afresh without destroying it."""
        path = self._path(user)
        with self._lock:
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(saved, dict) and isinstance(saved.get("chats"), dict):
                    return saved
            except FileNotFoundError:
                return None
            except (OSError, ValueError):
                pass
            aside = path.with_suffix(f".unreadable-{int(time.time())}")
            log.warning("the conversations in %s cannot be read; set aside as %s", path, aside.name)
            path.replace(aside)
            return None

    def save(self, user: str, saved: dict) -> None:
        """Replace the user's conversations, whole or not at all."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock:
            fd, tmp = tempfile.mkstemp(prefix=".saving-", dir=self.folder)  # created owner-only
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(saved, handle, ensure_ascii=False)
                os.replace(tmp, self._path(user))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
