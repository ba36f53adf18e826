"""Which BM25 engine can be updated in place: SQLite FTS5 against tantivy, with today's bm25s as reference.

On the SciFact abstracts (whole documents, title + text; the chunk-level numbers come from
bench/retrieval.py): nDCG@10 per engine; then on ~100k documents (the abstracts 20 times over, under
new ids) the build time, the cost of a change (100 deletes + 100 adds + commit, fsynced), query
latency at the fusion depth (k=100) and the size on disk. Writes bench/results/lexical_engines.md.

    .venv/bin/python bench/lexical_engines.py [--dataset /work/shared/bench/scifact] [--copies 20]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import rag  # noqa: E402,F401  (offline environment before any library import)
from rag.evaluate import load_beir, mean_metrics  # noqa: E402
from rag.lexical_index import _bm25s, _schema, index_tokens, query_tokens  # noqa: E402
from rag.text import stemmer  # noqa: E402

RESULTS = REPO / "bench" / "results"
UPDATES = 5  # changes of 100 deletes + 100 adds timed per engine
FTS5_TOKENIZER = "unicode61 remove_diacritics 0 tokenchars _"


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def latency(search, queries: list[list[str]]) -> tuple[float, float]:
    for terms in queries[:20]:
        search(terms)
    samples = sorted(timed(search, terms) * 1000 for terms in queries)
    return round(statistics.median(samples), 2), round(samples[int(0.95 * (len(samples) - 1))], 2)


def folder_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(folder, name)) for folder, _, names in os.walk(path) for name in names)


class Fts5:
    """FTS5 over the same stems as tantivy (stop words kept), scored by its built-in bm25()."""

    def __init__(self, folder: str, tokenizer: str = FTS5_TOKENIZER):
        self.folder = folder
        self.db = sqlite3.connect(os.path.join(folder, "fts.sqlite3"), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(f"CREATE VIRTUAL TABLE f USING fts5(body, tokenize=\"{tokenizer}\")")

    def change(self, removed: list[int], added: list[tuple[int, str]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("DELETE FROM f WHERE rowid = ?", [(i,) for i in removed])
        self.db.executemany("INSERT INTO f(rowid, body) VALUES (?, ?)", added)
        self.db.execute("COMMIT")

    def search(self, terms: list[str], k: int = 100) -> list[int]:
        if not terms:
            return []
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in dict.fromkeys(terms))
        rows = self.db.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rank LIMIT ?", (match, k))
        return [row[0] for row in rows]


class Tantivy:
    """The schema rag/lexical_index.py uses: pre-analysed stems, split on whitespace."""

    def __init__(self, folder: str):
        import tantivy

        self.tantivy = tantivy
        self.folder = folder
        self.index = tantivy.Index(_schema(), path=folder)

    def change(self, removed: list[int], added: list[tuple[int, str]]) -> None:
        writer = self.index.writer(heap_size=100_000_000 if len(added) > 10_000 else 20_000_000, num_threads=1)
        for chunk_id in removed:
            writer.delete_documents_by_term("id", chunk_id)
        for chunk_id, body in added:
            writer.add_document(self.tantivy.Document(id=chunk_id, body=body))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def search(self, terms: list[str], k: int = 100) -> list[int]:
        if not terms:
            return []
        tantivy = self.tantivy
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.index.schema, "body", t)) for t in dict.fromkeys(terms)]
        )
        searcher = self.index.searcher()
        return [searcher.doc(address)["id"][0] for _, address in searcher.search(query, k).hits]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=Path("/work/shared/bench/scifact"))
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    corpus, queries, qrels = load_beir(args.dataset)
    ids = list(corpus)
    texts = [f"{row.get('title', '')}\n{row.get('text', '')}" for row in corpus.values()]
    stems = [" ".join(terms) for terms in index_tokens(texts)]
    query_terms = {query_id: query_tokens(text) for query_id, text in queries.items()}

    def ndcg(search) -> float:
        rankings = {query_id: [ids[i % len(ids)] for i in search(terms)][:10] for query_id, terms in query_terms.items()}
        return mean_metrics(rankings, qrels)["ndcg@10"]

    rows: list[dict] = []
    bm25s = _bm25s()
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=False),
                    show_progress=False)

    def bm25s_search(terms: list[str], k: int = 10) -> list[int]:
        token_ids = reference.get_tokens_ids(terms)
        if not token_ids:
            return []
        scores = reference.get_scores_from_ids(token_ids)
        return list(scores.argsort()[::-1][:k])

    rows.append({"engine": "bm25s (today: static matrix, stop words out)", "ndcg": ndcg(bm25s_search)})

    documents = [(copy * len(stems) + i, body) for copy in range(args.copies) for i, body in enumerate(stems)]
    query_lists = list(query_terms.values())
    # FTS5's porter tokenizer stems documents and queries itself: it gets the raw text and query words.
    query_words = {query_id: bm25s.tokenize([text], stopwords="en", return_ids=False, show_progress=False)[0]
                   for query_id, text in queries.items()}
    engines = {
        "SQLite FTS5, same stems, bm25()": (lambda folder: Fts5(folder), False),
        "SQLite FTS5, porter tokenizer on the raw text": (lambda folder: Fts5(folder, "porter unicode61"), True),
        "tantivy, same stems (chosen)": (Tantivy, False),
    }
    for name, (make, raw) in engines.items():
        with tempfile.TemporaryDirectory(prefix="rag-lexical-") as folder:
            os.makedirs(os.path.join(folder, "small"))
            small = make(os.path.join(folder, "small"))
            small.change([], [(i, texts[i] if raw else stems[i]) for i in range(len(stems))])
            if raw:
                rankings = {query_id: [ids[i] for i in small.search(query_words[query_id], 10)] for query_id in queries}
                row = {"engine": name, "ndcg": mean_metrics(rankings, qrels)["ndcg@10"]}
            else:
                row = {"engine": name, "ndcg": ndcg(lambda terms: small.search(terms, 10))}
            if not raw:
                os.makedirs(os.path.join(folder, "large"))
                large = make(os.path.join(folder, "large"))
                row["build_s"] = round(timed(large.change, [], documents), 1)
                next_id = len(documents)
                updates = []
                for step in range(UPDATES):
                    removed = list(range(step * 100, step * 100 + 100))
                    added = [(next_id + step * 100 + i, stems[i]) for i in range(100)]
                    updates.append(timed(large.change, removed, added))
                row["update_s"] = round(statistics.median(updates), 3)
                row["one_change_s"] = round(timed(large.change, [5], [(10**8, stems[5])]), 3)
                row["p50_ms"], row["p95_ms"] = latency(large.search, query_lists)
                row["disk_mb"] = round(folder_bytes(os.path.join(folder, "large")) / 1e6)
            rows.append(row)
            print(row, file=sys.stderr)
    (RESULTS / "lexical_engines.md").write_text(markdown(rows, len(documents), len(queries)))
    print(markdown(rows, len(documents), len(queries)))


def markdown(rows: list[dict], documents: int, queries: int) -> str:
    lines = [
        "# Lexical engine for in-place updates",
        "",
        f"Produced by `bench/lexical_engines.py` on a shared 2-core machine (load average "
        f"{os.getloadavg()[0]:.1f} at the end). nDCG@10: SciFact, {queries} queries, "
        "whole abstracts (title + text) as documents. The rest: "
        f"{documents:,} documents (the abstracts over and over under new ids); a change is 100 deletes + 100 adds "
        "+ commit (median of 5, fsynced); query = the stemmed SciFact queries, top 100 (the fusion depth).",
        "",
        "| engine | nDCG@10 | build | change of 100+100 | change of 1+1 | query p50 / p95 | on disk |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if "build_s" in row:
            lines.append(f"| {row['engine']} | {row['ndcg']:.4f} | {row['build_s']} s | {row['update_s']} s | "
                         f"{row['one_change_s']} s | {row['p50_ms']} / {row['p95_ms']} ms | {row['disk_mb']} MB |")
        else:
            lines.append(f"| {row['engine']} | {row['ndcg']:.4f} | | | | | |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
