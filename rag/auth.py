"""Who may do what: password hashes, the two roles, and the rule that decides a caller's role.

Two roles. A *reader* asks questions and views documents and sources; an *editor* can also upload,
re-index, remove documents and change settings (which can direct where the API key is sent).
Users come from the settings (``[users.<name>]`` tables in rag.toml, or the TOML file named by
``users_file``); API keys for the HTTP API (rag/http_api.py) likewise from ``[api_keys.<name>]`` tables,
each with the same two roles. With no users and no keys configured the server is open and every caller is
an editor; that is only allowed on a loopback address (see :func:`check_bind`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
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
API_KEY_PREFIX = "rag-"


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


def new_api_key() -> str:
    """A fresh API key: 256 random bits, URL-safe, recognisable by its prefix."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """``sha256$<hex>``. A key is 256 random bits, so guessing it is hopeless without a slow hash; a fast one
    keeps checking a key to microseconds on every request (scrypt would cost tens of ms and 16 MB each)."""
    return "sha256$" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    role: Role
    password_hash: str


@dataclass(frozen=True)
class ApiKey:
    role: Role
    key_hash: str


def _parse_roles(table: dict, what: str, hash_field: str, scheme: str, command: str) -> dict[str, tuple[Role, str]]:
    """``{name: {role, <hash_field>}}`` (as in TOML) checked: a known role and a hash made by ``command``."""
    entries = {}
    for name, entry in (table or {}).items():
        if not isinstance(entry, dict):
            raise AuthError(f"{what} {name!r}: expected a table with role and {hash_field}")
        role, digest = entry.get("role"), entry.get(hash_field, "")
        if role not in ROLES:
            raise AuthError(f"{what} {name!r}: role must be one of {', '.join(ROLES)}, not {role!r}")
        if not str(digest).startswith(f"{scheme}$"):
            raise AuthError(f"{what} {name!r}: {hash_field} must come from `{command}`")
        entries[str(name)] = (role, str(digest))
    return entries


def parse_users(table: dict) -> dict[str, User]:
    """``{name: {role, password_hash}}`` (as in TOML) checked and turned into :class:`User` values."""
    return {name: User(*entry) for name, entry in
            _parse_roles(table, "user", "password_hash", "scrypt", "rag hash-password").items()}


def parse_api_keys(table: dict) -> dict[str, ApiKey]:
    """``{name: {role, key_hash}}`` (as in TOML) checked and turned into :class:`ApiKey` values."""
    return {name: ApiKey(*entry) for name, entry in
            _parse_roles(table, "API key", "key_hash", "sha256", "rag new-api-key").items()}


def _users_file_table(users_file: Path | None, table: str) -> dict:
    if users_file is None:
        return {}
    try:
        data = tomllib.loads(Path(users_file).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuthError(f"cannot read the users file {users_file}: {exc}") from exc
    return data.get(table, {})


def load_users(inline: dict, users_file: Path | None) -> dict[str, User]:
    """Users from the settings' ``users`` table plus the ``[users]`` table of ``users_file``."""
    return {**parse_users(inline), **parse_users(_users_file_table(users_file, "users"))}


def load_api_keys(inline: dict, users_file: Path | None) -> dict[str, ApiKey]:
    """API keys from the settings' ``api_keys`` table plus the ``[api_keys]`` table of ``users_file``."""
    return {**parse_api_keys(inline), **parse_api_keys(_users_file_table(users_file, "api_keys"))}


class Access:
    """The server's users and API keys: checks logins and keys, and says which role a caller has."""

    def __init__(self, users: dict[str, User], api_keys: dict[str, ApiKey] | None = None):
        self.users = users
        self.api_keys = api_keys or {}

    @property
    def open(self) -> bool:
        """No users and no API keys configured: nobody logs in and every caller is an editor (loopback only).
        Keys without users lock the UI (nobody can log in); users without keys lock the HTTP API."""
        return not self.users and not self.api_keys

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

    def key_role(self, key: str | None) -> Role | None:
        """The role of the caller presenting API ``key`` (None: no key, or not a configured one)."""
        if self.open:
            return "editor"
        digest = hash_api_key(key) if key else ""
        matched = [entry.role for entry in self.api_keys.values() if hmac.compare_digest(digest, entry.key_hash)]
        return matched[0] if matched else None


def load_access(settings) -> Access:
    """Who may use the server described by ``settings`` (rag/config.py): its users and its API keys."""
    return Access(load_users(settings.users, settings.users_file),
                  load_api_keys(settings.api_keys, settings.users_file))


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
            f"refusing to serve on {host} without authentication: add users (`rag hash-password`) or API keys "
            "(`rag new-api-key`), see README 'Security', or pass --insecure-no-auth"
        )
    return f"warning: serving on {host} with NO authentication: anyone who can reach it is an editor"
