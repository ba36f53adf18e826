"""The `rag` command: a thin shell over rag.api.Assistant."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import rag  # noqa: F401  (offline environment before any library import)
from rag.config import load_settings
from rag.errors import USER_ERRORS, UserError
from rag.text import one_line

# Characters of passage text shown per line in plain (non-JSON) output.
PASSAGE_PREVIEW_CHARS = 160


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, help="index folder (default: index/, or RAG_INDEX_DIR)")
    # --embed-backend is the deprecated name, kept so existing scripts keep working.
    parser.add_argument("--embed-runtime", "--embed-backend", dest="embed_runtime", choices=["torch", "onnx"],
                        help="embedding runtime (default onnx, or RAG_EMBED_RUNTIME)")
    parser.add_argument("--embed-model", metavar="FOLDER_OR_NAME",
                        help="embedding model: a local folder, or all-mpnet-base-v2 once its extra is installed "
                             "(default: the bundled all-MiniLM-L6-v2, or RAG_EMBED_MODEL)")


def _collection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collection", metavar="NAME",
                        help="the collection to use (default: the default one, corpus/ + index/; `rag collections`)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Ask questions of a folder of documents, offline.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="index (or re-index) folders and files")
    index.add_argument("paths", nargs="*", type=Path, help="folders or files (default: corpus/)")
    index.add_argument("--rebuild", action="store_true", help="discard the index and embed everything again")
    index.add_argument("--json", action="store_true", help="print the report as JSON")
    index.add_argument(
        "--no-wait", action="store_true", help="fail instead of waiting when another index run is in progress"
    )
    index.add_argument("--watch", action="store_true",
                       help="keep running: index files as they appear, change or disappear (Ctrl-C ends)")
    index.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS", dest="ray_address",
                       help="load, chunk and embed on Ray: the cluster at ADDRESS (host:port, ray://host:port), "
                            "or without one a Ray instance started on this machine (needs `pip install -e .[ray]`)")
    index.add_argument("--ray-workers", type=int, metavar="N", help="Ray actors embedding at once (default 2)")
    _common(index)
    _collection(index)

    search = commands.add_parser("search", help="retrieve passages for a query")
    search.add_argument("query")
    search.add_argument("-k", type=int, help="number of passages (default 5)")
    search.add_argument("--mode", choices=["hybrid", "dense", "bm25"])
    search.add_argument("--json", action="store_true")
    _common(search)
    _collection(search)

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question")
    ask.add_argument("--backend", help="extractive, local, openai or ollama")
    ask.add_argument("-k", type=int, help="passages given to the backend")
    ask.add_argument("--mode", choices=["hybrid", "dense", "bm25"])
    ask.add_argument("--json", action="store_true")
    _common(ask)
    _collection(ask)

    status = commands.add_parser("status", help="what the index holds")
    status.add_argument("--json", action="store_true")
    _common(status)
    _collection(status)

    evaluate = commands.add_parser("eval-retrieval", help="nDCG@10, Recall@100, MRR@10 on a BEIR dataset")
    evaluate.add_argument("dataset", type=Path)
    evaluate.add_argument("--mode", choices=["hybrid", "dense", "bm25"])
    evaluate.add_argument("--json", action="store_true")
    _common(evaluate)

    serve = commands.add_parser("serve", help="index corpus/ if needed and serve the chat UI and the HTTP API (/v1)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--api-only", action="store_true", help="serve the HTTP API (/v1, docs at /docs) without the UI")
    serve.add_argument("--insecure-no-auth", action="store_true",
                       help="allow a non-loopback --host with no users or API keys configured (anyone reaching it "
                            "is an editor)")
    _common(serve)

    migrate = commands.add_parser("migrate", help="copy the local index into another store (vectors included: "
                                                  "nothing is embedded again); safe to run again")
    migrate.add_argument("--to", required=True, choices=["milvus"], help="the store to copy into, as configured "
                                                                          "(milvus_uri, milvus_token, ...)")
    _common(migrate)

    collections = commands.add_parser("collections", help="list, create or remove collections (named indexes)")
    collections.add_argument("action", nargs="?", choices=["list", "create", "remove"], default="list")
    collections.add_argument("name", nargs="?", help="the collection to create or remove")
    collections.add_argument("--yes", action="store_true", help="remove without asking (scripts)")
    collections.add_argument("--json", action="store_true")
    _common(collections)

    commands.add_parser("hash-password", help="read a password (no echo) and print its hash for the users table")
    api_key = commands.add_parser("new-api-key", help="make an API key for the HTTP API and print it with its "
                                                      "[api_keys] entry")
    api_key.add_argument("name", help="who or what uses the key, e.g. open-webui")
    api_key.add_argument("--role", choices=["reader", "editor"], default="reader")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`rag ask … | head -3`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the final flush at exit does not fail again
        return 1
    except USER_ERRORS as exc:  # every expected failure type says what to fix; show it as one line
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from rag.api import Assistant

    if args.command == "hash-password":
        return _hash_password()
    if args.command == "new-api-key":
        return _new_api_key(args.name, args.role)
    settings = load_settings(
        index_dir=args.index_dir,
        embed_runtime=args.embed_runtime,
        embed_model=args.embed_model,
        retrieval_mode=getattr(args, "mode", None),
        top_k=getattr(args, "k", None),
        backend=getattr(args, "backend", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        ray_address=getattr(args, "ray_address", None),
        ray_workers=getattr(args, "ray_workers", None),
    )
    if getattr(args, "k", None) is not None and args.k <= 0:
        raise UserError("-k must be a positive number")

    if args.command == "eval-retrieval":
        return _eval_retrieval(args, settings)
    if args.command == "migrate":
        from rag.migrate import migrate_index

        print(migrate_index(settings, args.to).summary())
        return 0
    if args.command == "serve":
        if args.api_only:
            from rag.http_api import serve
        else:
            from rag.ui import serve
        serve(settings, insecure_no_auth=args.insecure_no_auth)
        return 0

    assistant = Assistant(settings)
    if args.command == "collections":
        return _collections(assistant, args)
    assistant = assistant.collection(getattr(args, "collection", None))
    if args.command == "index" and args.watch:
        if args.rebuild:
            raise UserError("--watch and --rebuild do not go together: rebuild first, then watch")

        def show(report) -> None:
            print(json.dumps(report.to_dict()) if args.json else report.summary(), flush=True)

        assistant.watch(args.paths or None, on_report=show)
        return 0
    if args.command == "index":
        report = assistant.index(
            args.paths or None,
            rebuild=args.rebuild,
            progress=_progress_printer(),
            wait=not args.no_wait,
            on_wait=lambda message: print(message, file=sys.stderr, flush=True),
        )
        print(json.dumps(report.to_dict(), indent=2) if args.json else report.summary())
        return 1 if report.unreadable else 0  # indexed what it could; some paths need a look
    if args.command == "search":
        hits = assistant.search(args.query)
        if args.json:  # chunk ids are internal to one index: left out
            found = [{**hit.passage.to_dict(), "score": hit.score} for hit in hits]
            print(json.dumps(found, indent=2, ensure_ascii=False))
        else:
            for rank, hit in enumerate(hits, 1):
                passage = hit.passage
                where = " > ".join(part for part in (passage.title, passage.section) if part)
                print(f"{rank}. [{hit.score:.3f}] {passage.source} ({where})\n"
                      f"   {one_line(passage.text, PASSAGE_PREVIEW_CHARS)}")
            if not hits:
                empty = assistant.status()["chunks"] == 0
                print("the index is empty; run `rag index`" if empty else "no passage matches the query")
        return 0
    if args.command == "status":
        status = assistant.status()
        lines = (f"{key}: {value}" for key, value in status.items() if key != "warning")
        print(json.dumps(status, indent=2) if args.json else "\n".join(lines))
        if status["warning"] and not args.json:
            print(f"warning: {status['warning']}", file=sys.stderr)
        return 0
    if args.command == "ask":
        return _ask(assistant, args)
    raise UserError(f"unknown command {args.command}")


def _collections(assistant, args: argparse.Namespace) -> int:
    """`rag collections [list|create NAME|remove NAME]`; removal deletes the folder, so it asks first."""
    if args.action != "list" and not args.name:
        raise UserError(f"name the collection to {args.action}: rag collections {args.action} NAME")
    if args.action == "create":
        made = assistant.create_collection(args.name)
        print(f"created the collection {args.name}: add documents to {made.corpus_dir}, then "
              f"`rag index --collection {args.name}`")
        return 0
    if args.action == "remove":
        preview = assistant.collection_removal_preview(args.name).replace("**", "").replace("`", "")
        if not args.yes:
            if not sys.stdin.isatty():
                raise UserError(f"{preview} Add --yes to remove it.")
            if input(f"{preview} Remove it? [y/N] ").strip().lower() not in ("y", "yes"):
                print("not removed")
                return 1
        print(assistant.remove_collection(args.name).replace("`", ""))
        return 0
    found = [{"name": c.name, "corpus_dir": str(c.corpus_dir), "index_dir": str(c.index_dir), "documents": n}
             for c, n in assistant.collections()]
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        for c in found:
            print(f"{c['name']}: {c['documents']} documents (files in {c['corpus_dir']}, index in {c['index_dir']})")
    return 0


def _hash_password() -> int:
    """Prompt without echo on a terminal, else read one line from stdin (never from argv: it shows in ps)."""
    import getpass

    from rag.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UserError("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    print(hash_password(password))
    return 0


def _new_api_key(name: str, role: str) -> int:
    """The key goes to stdout once; only its hash goes into the configuration."""
    from rag.auth import hash_api_key, new_api_key

    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):  # a bare TOML key
        raise UserError("the key name may contain only letters, digits, - and _")
    key = new_api_key()
    print(f"API key (shown once; give it to the client): {key}\n\n"
          f"Add to rag.toml (or to the users_file):\n[api_keys.{name}]\nrole = \"{role}\"\n"
          f"key_hash = \"{hash_api_key(key)}\"")
    return 0


def _eval_retrieval(args: argparse.Namespace, settings) -> int:
    from rag.api import Assistant
    from rag.evaluate import corpus_sources, evaluate, load_beir

    corpus, queries, qrels = load_beir(args.dataset)
    if args.index_dir is None:  # keep benchmark documents out of the default corpus index
        settings = settings.model_copy(update={"index_dir": settings.index_dir / f"beir-{args.dataset.resolve().name}"})
    assistant = Assistant(settings)
    root, files = corpus_sources(args.dataset, corpus)
    report = assistant.index_sources({root: files}, {root}, progress=_progress_printer())
    print(f"index: {report.documents_total} documents, {report.chunks_total} chunks "
          f"({report.chunks_embedded} embedded now, {report.chunks_copied} copied) in {settings.index_dir}",
          file=sys.stderr)
    result = evaluate(lambda text, depth: assistant.search(text, depth), queries, qrels, settings.retrieval_mode)
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(f"{key}: {value}" for key, value in result.items()))
    return 0


def _ask(assistant, args: argparse.Namespace) -> int:
    """Stream the answer as it is written (plain mode), then list the passages it cites."""
    answer = None
    for event in assistant.ask(args.question):
        if event.kind == "delta" and not args.json:
            print(event.text, end="", flush=True)
        elif event.kind == "done":
            answer = event.answer
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print()
    if answer.citations:
        print("\nSources:")
        for citation in answer.citations:
            passage = citation.passage
            page = f", page {passage.page}" if passage.page else ""
            where = " > ".join(part for part in (passage.title, passage.section) if part)
            flag = "" if citation.supported else "  (not confirmed by the passage)"
            print(f"[{citation.n}] {passage.source}{page}: {where}{flag}\n"
                  f"    {one_line(passage.text, PASSAGE_PREVIEW_CHARS)}")
    elif answer.uncited:
        print("\nClosest passages:")
        for hit in answer.uncited[:3]:
            print(f"- {hit.passage.source}: {one_line(hit.passage.text, PASSAGE_PREVIEW_CHARS)}")
    return 0


def _progress_printer():
    """Progress on stderr when a person is watching; silent in pipes and CI logs."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", leave=False)

    def update(fraction: float, message: str) -> None:
        bar.n = int(fraction * 100)
        bar.set_description(message[:60])
        bar.refresh()
        if fraction >= 1.0:
            bar.close()

    return update


if __name__ == "__main__":
    sys.exit(main())
