"""What counts as a user's mistake: shown as its one-line message by the CLI and the UI, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (a bad flag, an empty index, a backend that is down); ``str(exc)`` says how."""


# ValueError covers bad arguments raised by the libraries underneath (an empty question, an unknown mode).
USER_ERRORS: tuple[type[Exception], ...] = (UserError, ValueError)
