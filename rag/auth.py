"""Who may do what: password hashes, the two roles, and the rule that decides a caller's role.

Two roles. A *reader* asks questions and views documents and sources; an *editor* can also upload,
re-index, remove documents and change settings (which can direct where the API key is sent).
Users come from the settings (``[users.<name>]`` tables in rag.toml, or the TOML file named by
``users_file``). With no users configured the server is open and every caller is an editor; that is
only allowed on a loopback address (see :func:`check_bind`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Role = Literal["reader", "editor"]
ROLES: tuple[Role, ...] = ("reader", "editor")
READ, EDIT = "read", "edit"

# scrypt cost: n=2**14, r=8, p=1 is the interactive-login setting from the scrypt paper and Python's
# docs (16 MB of memory, tens of milliseconds per check), enough to make offline guessing expensive.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16


class AuthError(ValueError):
    """The users configuration cannot be used; the message says what to fix."""


class PermissionDenied(PermissionError):
    """The caller's role does not allow the action."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash in the form ``scrypt$n$r$p$salt$hash`` (base64 salt and hash)."""
    if not password:
        raise AuthError("the password is empty")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (from :func:`hash_password`); constant-time compare."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt, validate=True),
                                n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class User:
    role: Role
    password_hash: str


def parse_users(table: dict) -> dict[str, User]:
    """``{name: {role, password_hash}}`` (as in TOML) checked and turned into :class:`User` values."""
    users = {}
    for name, entry in (table or {}).items():
        if not isinstance(entry, dict):
            raise AuthError(f"user {name!r}: expected a table with role and password_hash")
        role, password_hash = entry.get("role"), entry.get("password_hash", "")
        if role not in ROLES:
            raise AuthError(f"user {name!r}: role must be one of {', '.join(ROLES)}, not {role!r}")
        if not str(password_hash).startswith("scrypt$"):
            raise AuthError(f"user {name!r}: password_hash must come from `rag hash-password`")
        users[str(name)] = User(role, str(password_hash))
    return users


def load_users(inline: dict, users_file: Path | None) -> dict[str, User]:
    """Users from the settings' ``users`` table plus the ``[users]`` table of ``users_file``."""
    users = parse_users(inline)
    if users_file is not None:
        try:
            data = tomllib.loads(Path(users_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AuthError(f"cannot read the users file {users_file}: {exc}") from exc
        users.update(parse_users(data.get("users", {})))
    return users


class Access:
    """The server's users: checks logins and says which role a logged-in name has."""

    def __init__(self, users: dict[str, User]):
        self.users = users

    @property
    def open(self) -> bool:
        """No users configured: nobody logs in and every caller is an editor (loopback only)."""
        return not self.users

    def check_login(self, username: str, password: str) -> bool:
        user = self.users.get(username)
        if user is None:
            verify_password(password, _DUMMY_HASH)  # same work for unknown names: no user enumeration by timing
            return False
        return verify_password(password, user.password_hash)

    def role(self, username: str | None) -> Role | None:
        if self.open:
            return "editor"
        user = self.users.get(username or "")
        return user.role if user else None


_DUMMY_HASH = hash_password("not a real password", salt=b"\0" * SALT_BYTES)


def allows(role: Role | None, action: str) -> bool:
    """Readers may read; editors may read and edit; no role may do nothing."""
    if role == "editor":
        return action in (READ, EDIT)
    return role == "reader" and action == READ


def require(role: Role | None, action: str, what: str) -> None:
    if not allows(role, action):
        who = f"a {role}" if role else "an anonymous caller"
        raise PermissionDenied(f"permission denied: {who} cannot {what} (editors only)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, access: Access, insecure_no_auth: bool) -> str | None:
    """Refuse (AuthError) an open server on a non-loopback address; a warning line if forced anyway."""
    if not access.open or is_loopback(host):
        return None
    if not insecure_no_auth:
        raise AuthError(
            f"refusing to serve on {host} without authentication: add users (`rag hash-password`, see README "
            "'Security') or pass --insecure-no-auth"
        )
    return f"warning: serving on {host} with NO authentication: anyone who can reach it is an editor"
