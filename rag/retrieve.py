"""Dense, lexical (BM25) and hybrid retrieval over a stored index."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

from rag.chunk import SECTION_SEPARATOR
from rag.dense_index import best_per_chunk
from rag.embed import Embedder
from rag.passage import Hit, Passage
from rag.stores import IndexStore, SearchSnapshot

MODES = ("hybrid", "dense", "bm25")
# Hybrid = a weighted sum of three min-max normalised scores over their candidates: the chunk's cosine (dense),
# its BM25 score, and the cosine of its best answer unit (a sentence, row or item: a question paraphrasing one
# sentence of a long chunk is closer to that sentence than to the chunk). Measured in bench/results/retrieval.md
# (SciFact nDCG@10: dense + BM25 at 0.5/0.5 0.7212, with the unit score at 0.3/0.4/0.3 0.7382) and
# bench/results/pydocs.md (recall@5 139 -> 148 of its first 159 questions); weights between 0.2 and 0.4 for the unit
# score all gained on both. Milvus fuses dense and BM25 inside itself (rag/milvus_store.py) without the unit score:
# its arctan-normalised fused scores min-max fused with the unit score lost nDCG@10 on milvus-lite (0.68 -> 0.62,
# 30 SciFact queries), where the same three scores fused here, from Milvus' own searches, matched the local index.
FUSION_WEIGHTS = {"dense": 0.3, "bm25": 0.4, "units": 0.3}
# Each retriever contributes this many candidates (at least) to the fusion.
FUSION_DEPTH = 100
# Answers: the chunks owning the best answer units the chunk search missed join the k passages (UNIT_PASSAGES of
# them, from the top UNIT_SEARCH_DEPTH unit-search chunks). Chosen on the calibration half of bench/questions.json
# (replacing 1 or adding 1-3 each gained one paraphrase and lost nothing; replacing 2 lost a 4th-ranked evidence
# chunk) and on the other answer benches once the answer rules of issues 10 and 15 were in: replacing the k-th
# lost a 5th hit holding the answer ("Are Python sorts stable?"); adding 1 lost a cited PDF evidence to a nearer
# labelled line; adding 2 also brings a short entry's opening ("Simple lightweight unbounded function cache.")
# and gave the best of every bench (bench/pydocs.py original questions 35 -> 38/43, PDFs 23 -> 24/27, corpus
# held-out 42/46 either way); adding 3 changed nothing more.
UNIT_PASSAGES = 2
UNIT_RANKINGS_KEPT = 32  # recent questions' unit rankings kept per index generation (see unit_chunks)
UNIT_SEARCH_DEPTH = 5
# "What does __slots__ do?": the passage opening the section titled by what is asked joins them when a hit sits
# further into that section (looked for this many chunks back; chunks of a document have consecutive ids).
SECTION_LEADS = 1
SECTION_LEAD_REACH = 16

# Operators a query writes are invisible to BM25, whose tokenizer keeps words only: "Does 2 ** 3 ** 2 mean
# (2 ** 3) ** 2?", "… ~Perm.R?", "p1 == p2 is False" are searched with the words documentation names them by too
# ("exponentiation", "invert", "equality comparison"). Each pattern wants the operator between operands, as written in
# code, not a usage line's "[-v | -q]"; a "**rest" before a name (a pattern's, a signature's) is a "double star". Dense
# and unit search keep the query as written. Python-docs set: hybrid recall@5 2054 -> 2060 of 2487 (8 found, 2 lost:
# "… a == b and a < b both …" and a "**_" in a mapping pattern). String and slice notation likewise: "delimited by
# '''", "f'{await …}'", "rows[:]", "x = a if c else b" (2547 -> 2552 of 3067, nothing lost; "b'…'" as a bytes
# literal, "\n" as a newline and "%d" as printf-style formatting each found one and lost one; "r'…'", "@name",
# "-> T", "[x for" and "f(*rest)" moved nothing).
OPERATOR_WORDS = (
    (re.compile(r"\d\s*\*\*|\*\*\s*\d"), "power exponentiation"),
    (re.compile(r"\w\s//\s\w"), "floor division"),
    (re.compile(r"\w\s%\s\w"), "modulo remainder"),
    (re.compile(r"\s==\s"), "equality comparison equal"),
    (re.compile(r"\s!=\s"), "comparison not equal"),
    (re.compile(r"(?<![\w~])~[\w(]"), "invert inversion bitwise"),
    (re.compile(r"\w\s\|\s\w"), "bitwise or union"),
    (re.compile(r"\w\s&\s\w"), "bitwise and intersection"),
    (re.compile(r"\w\s\^\s\w"), "bitwise exclusive xor"),
    (re.compile(r"\s(?:<<|>>)\s"), "shift"),
    (re.compile(r"\w\s@\s\w"), "matrix multiplication"),
    (re.compile(r":="), "assignment expression"),
    (re.compile(r"(?<![\w*])\*\*[A-Za-z_]"), "double star"),
    (re.compile(r"'''|\"\"\""), "triple-quoted"),
    (re.compile(r"(?<!\w)[fF]['\"]"), "f-string formatted string literal"),
    (re.compile(r"\[\s*-?\w*\s*:\s*-?\w*\s*\]"), "slice slicing"),
    (re.compile(r"[\w)\]'\"]\s+if\s+[^?]{1,40}?\s+else\s+[\w(\['\"-]"), "conditional expression"),
)

# Programmers' shorthand for what documentation spells out, searched as both: "plain dicts" finds "dictionaries".
# A lower-case word only, not a code name ("settings.dict", "dir()", "from config import"). Python-docs set: hybrid
# recall@5 2060 -> 2065 of 2487 (6 found, all by dict/dicts; 1 lost: "… old_cfg < new_cfg on two dicts"); the other
# words moved no question of the set.
SHORTHAND = {
    "dict": "dictionary", "dicts": "dictionaries", "func": "function", "funcs": "functions", "arg": "argument",
    "args": "arguments", "param": "parameter", "params": "parameters", "attr": "attribute", "attrs": "attributes",
    "var": "variable", "vars": "variables", "env": "environment", "dir": "directory", "dirs": "directories",
    "config": "configuration", "lib": "library", "libs": "libraries", "obj": "object", "objs": "objects",
    "msg": "message", "num": "number", "regex": "regular expression", "regexes": "regular expressions",
    "repo": "repository", "seq": "sequence", "stdlib": "standard library", "docs": "documentation",
}
_SHORTHAND_WORD = re.compile(r"(?<![\w.])(?<!import )(?<!from )[a-z]+(?![\w(.])")


def lexical_query(query: str) -> str:
    """The query BM25 searches: ``query`` with the names of the operators it writes (OPERATOR_WORDS) and the words
    its shorthand stands for (SHORTHAND)."""
    named = [words for pattern, words in OPERATOR_WORDS if pattern.search(query)]
    spelled = [SHORTHAND[word] for word in _SHORTHAND_WORD.findall(query) if word in SHORTHAND]
    return " ".join(dict.fromkeys([query, *named, *spelled]))


class Retriever:
    """Answers queries from one committed generation of the index, held in memory without chunk text."""

    def __init__(self, store: IndexStore, embedder: Embedder, artifacts: SearchSnapshot | None):
        self.store = store
        self.embedder = embedder
        self.artifacts = artifacts
        self._unit_rankings: OrderedDict[tuple[str, frozenset[int] | None], tuple[int, list[tuple[int, float]]]] = OrderedDict()
        self._units_lock = threading.Lock()

    def search(self, query: str, k: int = 5, mode: str = "hybrid", within: Collection[int] | None = None) -> list[Hit]:
        """Top ``k`` passages; ``within`` (chunk ids) restricts the search to those chunks."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}")
        query = query.strip()
        if not query or self.artifacts is None or len(self.artifacts) == 0 or k <= 0:
            return []
        ranked = self.ranked_chunks(query, k, mode, within)
        passages = self.store.chunks([chunk_id for chunk_id, _ in ranked])
        return [Hit(passages[chunk_id], float(score)) for chunk_id, score in ranked if chunk_id in passages]

    def ranked_chunks(self, query: str, k: int, mode: str,
                      within: Collection[int] | None = None) -> list[tuple[int, float]]:
        """Top ``k`` chunk ids with their scores: cosine (dense), BM25 (bm25) or fused in [0, 1] (hybrid, weighted by
        FUSION_WEIGHTS; an engine that fuses inside itself, Milvus, scores by its own ranker)."""
        vector = self.embedder.encode_query(query) if mode != "bm25" else None
        if mode == "dense":
            return self._nearest(vector, k, within)
        if mode == "bm25":
            return self.bm25_chunks(query, k, within)
        if (engine := self.artifacts.hybrid_search(vector, lexical_query(query), k, within)) is not None:
            return engine  # dense and BM25 fused inside the engine (Milvus): see FUSION_WEIGHTS
        depth = max(FUSION_DEPTH, k)
        units = self.unit_chunks(query, depth, within)
        return score_fusion([(self._nearest(vector, depth, within), FUSION_WEIGHTS["dense"]),
                             (self.bm25_chunks(query, depth, within), FUSION_WEIGHTS["bm25"]),
                             (units, FUSION_WEIGHTS["units"])], k)

    def document_frequency(self, term: str) -> int:
        """How many chunks hold the (stemmed) BM25 term: the index's own rarity statistics."""
        lexical = self.artifacts.lexical if self.artifacts is not None else None
        return lexical.document_frequency(term) if lexical is not None else 0

    def dense_chunks(self, query: str, k: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        return self._nearest(self.embedder.encode_query(query), k, within)

    def _nearest(self, vector: np.ndarray, k: int, within: Collection[int] | None) -> list[tuple[int, float]]:
        if within is None:
            return self.artifacts.dense.search(vector, k)
        # Exact cosine over the chosen chunks' stored vectors, whatever the index type: a filter that keeps
        # few chunks would starve an approximate search.
        chunk_ids, vectors = self.store.vectors_of(within)
        if not len(chunk_ids):
            return []
        scores = vectors @ np.asarray(vector, dtype=np.float32).reshape(-1)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(chunk_ids[i]), float(scores[i])) for i in top]

    def unit_chunks(self, query: str, k: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` chunks owning the answer units (sentences, rows, items) nearest the query, each scored by its
        best unit's cosine: finds the one sentence a question paraphrases when its chunk as a whole ranks low.
        The last few rankings are kept: hybrid search and the answer's unit hits ask for the same one, and an
        exact unit scan costs about 20 ms at 100k chunks."""
        key = query, None if within is None else frozenset(within)
        with self._units_lock:
            depth, ranking = self._unit_rankings.get(key, (0, []))
            if depth >= k:
                self._unit_rankings.move_to_end(key)
                return ranking[:k]
        depth = max(k, FUSION_DEPTH)
        ranking = self._unit_search(self.embedder.encode_query(query), depth, within)
        with self._units_lock:
            self._unit_rankings[key] = depth, ranking
            if len(self._unit_rankings) > UNIT_RANKINGS_KEPT:
                self._unit_rankings.popitem(last=False)
        return ranking[:k]

    def _unit_search(self, vector: np.ndarray, k: int, within: Collection[int] | None) -> list[tuple[int, float]]:
        if within is None:
            return self.artifacts.units.search(vector, k)
        owners, vectors = self.store.unit_rows(within)  # exact, as for a filtered chunk search
        if not len(owners):
            return []
        return best_per_chunk(owners, vectors @ np.asarray(vector, dtype=np.float32).reshape(-1), k)

    def bm25_chunks(self, query: str, k: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        lexical = self.artifacts.lexical
        return lexical.search(lexical_query(query), k, within) if lexical is not None else []


def _min_max(ranking: list[tuple[int, float]]) -> dict[int, float]:
    if not ranking:
        return {}
    scores = [score for _, score in ranking]
    low, high = min(scores), max(scores)
    return {chunk_id: (score - low) / (high - low) if high > low else 1.0 for chunk_id, score in ranking}


def score_fusion(rankings: Sequence[tuple[list[tuple[int, float]], float]], k: int) -> list[tuple[int, float]]:
    """Weighted sum of each (ranking, weight)'s normalised scores; a chunk missing from a ranking scores 0 there."""
    normalised = [(_min_max(ranking), weight) for ranking, weight in rankings]
    fused = {chunk_id: sum(weight * scores.get(chunk_id, 0.0) for scores, weight in normalised)
             for chunk_id in set().union(*(scores.keys() for scores, _ in normalised))}
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]


def with_named_documents(hits: list[Hit], named: list[list[Hit]], k: int, per_document: int = 2) -> list[Hit]:
    """The top ``k`` hits, made to hold the best ``per_document`` passages of each document the question names
    (``named``: each named document's own hits), in place of the weakest others: "What do the overview and the
    core post say about X?" needs both documents, and the one closer to X would otherwise fill every slot."""
    def key(hit: Hit) -> tuple[str, int, int]:
        return hit.passage.source, hit.passage.start, hit.passage.end

    wanted = list({key(hit): hit for document in named for hit in document[:per_document]}.values())[:k]
    keys = {key(hit) for hit in wanted}
    others = [hit for hit in hits if key(hit) not in keys]
    kept = {key(hit) for hit in others[: k - len(wanted)]} | keys
    merged = {key(hit): hit for hit in [*hits, *wanted] if key(hit) in kept}
    return list(merged.values())


def with_unit_hits(hits: list[Hit], passages: Callable[[Sequence[int]], Mapping[int, Passage]],
                   unit_hits: list[tuple[int, float]], k: int, extra: int = UNIT_PASSAGES) -> list[Hit]:
    """The top ``k`` hits, then the chunks owning the best answer units (``unit_hits``: chunk id, best unit cosine,
    which is their score, best first) that they lack, up to ``extra`` of them: a question that paraphrases one
    sentence of a long chunk shares too little with the chunk as a whole to rank it (sentence-window retrieval)."""
    held = {hit.passage.id for hit in hits[:k]}
    missing = [chunk_id for chunk_id, _ in unit_hits if chunk_id not in held][:extra]
    found = passages(missing) if missing else {}
    scores = dict(unit_hits)
    return [*hits[:k], *(Hit(found[chunk_id], scores[chunk_id]) for chunk_id in missing if chunk_id in found)]


def with_section_rests(hits: list[Hit], passages: Callable[[Sequence[int]], Mapping[int, Passage]],
                       k: int) -> list[Hit]:
    """The hits, then for each of the top ``k`` the chunk after it when that goes on in its section, when they lack
    it: a section's answer often comes a chunk after the one sharing the question's words (total_ordering's entry
    names the methods it needs in one chunk and says what it does with inherited ones in the next), and a long code
    example is split across chunks, the lines that show how to use it often in the second. Chunks are stored in
    document order, so the next chunk's id is one more."""
    held = {hit.passage.id for hit in hits}
    top = [hit for hit in hits[:k] if hit.passage.id + 1 not in held]
    found = passages([hit.passage.id + 1 for hit in top]) if top else {}
    rests = [Hit(found[hit.passage.id + 1], hit.score) for hit in top
             if hit.passage.id + 1 in found and found[hit.passage.id + 1].goes_on_from(hit.passage)]
    return [*hits, *rests]


def with_section_leads(hits: list[Hit], k: int, names_subject: Callable[[str], bool],
                       passages: Callable[[Sequence[int]], Mapping[int, Passage]], extra: int = SECTION_LEADS) -> list[Hit]:
    """``hits``, then the chunk opening the section a top-``k`` hit is in (or under) when that section's heading
    names what the question asks about (``names_subject``): a definition opens the section of its term, and a
    question about the term finds the notes further down as readily ("Notes on using __slots__" under
    "__slots__")."""
    openings: dict[int, tuple[Hit, str]] = {}
    for hit in hits[:k]:
        path = hit.passage.section.split(SECTION_SEPARATOR)
        depth = next((d for d, heading in enumerate(path) if heading and names_subject(heading)), None)
        if depth is not None:
            openings[hit.passage.id] = hit, SECTION_SEPARATOR.join(path[: depth + 1])
    if not openings:
        return hits
    earlier = passages(sorted({i for chunk_id in openings for i in range(max(0, chunk_id - SECTION_LEAD_REACH), chunk_id)}))
    held, leads = {hit.passage.id for hit in hits}, []
    for chunk_id, (hit, section) in openings.items():
        lead = chunk_id
        while (p := earlier.get(lead - 1)) is not None and p.source == hit.passage.source and (
                p.section == section or p.section.startswith(section + SECTION_SEPARATOR)):
            lead -= 1
        reached_start = lead == 0 or lead - 1 in earlier  # the chunk before is known to be outside the section
        if lead != chunk_id and reached_start and lead not in held and lead not in (h.passage.id for h in leads):
            leads.append(Hit(earlier[lead], hit.score))
    return [*hits, *leads[:extra]]

