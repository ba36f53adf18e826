"""Collections: named indexes, each with its own documents folder and index folder.

"default" is the settings' corpus_dir + index_dir (a user who never makes a collection sees no change).
Others come from ``[collections.NAME]`` tables in rag.toml (folders of the user's choosing, never deleted by
the app) or were made by :func:`create_collection` in ``collections_dir/NAME/{corpus,index}`` (removable
with their folder). A collection exists exactly when one of these says so: nothing else is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.config import COLLECTION_NAME, DEFAULT_COLLECTION, Settings
from rag.errors import UserError


class UnknownCollection(UserError):
    """No collection has this name."""


@dataclass(frozen=True)
class Collection:
    name: str
    corpus_dir: Path
    index_dir: Path
    made_here: bool  # made in collections_dir (removable with its folder); False: default or from rag.toml


def checked_name(name: str | None) -> str:
    """The collection name to use (None or empty: the default one); UserError for an unusable name."""
    name = (name or "").strip() or DEFAULT_COLLECTION
    if not COLLECTION_NAME.fullmatch(name):
        raise UserError(f"bad collection name {name!r}: use up to 64 letters, digits, - and _, starting with a "
                        "letter or digit")
    return name


def milvus_prefix(prefix: str, name: str) -> str:
    """The Milvus collection prefix of collection ``name``: the default collection keeps the configured one,
    others get their own (Milvus names allow no "-", so "_" is written "__" and "-" "_d": distinct names stay
    distinct)."""
    if name == DEFAULT_COLLECTION:
        return prefix
    return f"{prefix}_c_{name.replace('_', '__').replace('-', '_d')}"


def _made_folder(settings: Settings, name: str) -> Path:
    return Path(settings.collections_dir) / name


def find_collection(settings: Settings, name: str | None) -> Collection:
    """The collection called ``name`` (None: the default one); UserError when there is none by that name."""
    name = checked_name(name)
    if name == DEFAULT_COLLECTION:
        return Collection(name, Path(settings.corpus_dir), Path(settings.index_dir), made_here=False)
    if name in settings.collections:
        table = settings.collections[name]
        return Collection(name, Path(table["corpus_dir"]), Path(table["index_dir"]), made_here=False)
    folder = _made_folder(settings, name)
    if folder.is_dir() and not folder.is_symlink():
        return Collection(name, folder / "corpus", folder / "index", made_here=True)
    raise UnknownCollection(f"no collection named {name!r} (`rag collections` lists them; `rag collections create "
                    f"{name}` makes it)")


def list_collections(settings: Settings) -> list[Collection]:
    """Every collection: the default one first, then the others by name."""
    names = set(settings.collections)
    folder = Path(settings.collections_dir)
    if folder.is_dir():
        names |= {path.name for path in folder.iterdir()
                  if path.is_dir() and not path.is_symlink() and COLLECTION_NAME.fullmatch(path.name)}
    names.discard(DEFAULT_COLLECTION)
    return [find_collection(settings, name) for name in [DEFAULT_COLLECTION, *sorted(names)]]


def create_collection(settings: Settings, name: str) -> Collection:
    """Make an empty collection in ``collections_dir/NAME/{corpus,index}``; UserError if the name is taken."""
    name = checked_name(name)
    folder = _made_folder(settings, name)
    if name == DEFAULT_COLLECTION or name in settings.collections or folder.exists() or folder.is_symlink():
        raise UserError(f"a collection named {name!r} exists already")
    (folder / "corpus").mkdir(parents=True)
    (folder / "index").mkdir()
    return Collection(name, folder / "corpus", folder / "index", made_here=True)


def removable(collection: Collection) -> None:
    """UserError unless the app made this collection (only then may it delete its folder)."""
    if collection.name == DEFAULT_COLLECTION:
        raise UserError("the default collection cannot be removed (remove its documents instead)")
    if not collection.made_here:
        raise UserError(f"the collection {collection.name!r} is set in rag.toml with folders of your own: "
                        "remove its [collections] table there (its folders are left alone)")
