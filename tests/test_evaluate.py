"""BEIR-format retrieval evaluation: the metrics, and `rag eval-retrieval` end to end on a small real dataset."""

from __future__ import annotations

import json
import math

import pytest

from rag.evaluate import mrr_at, ndcg_at, recall_at
from test_index import run_cli

DOCS = {
    "d1": ("Penguins", "Penguins are flightless seabirds living almost exclusively in the Southern Hemisphere."),
    "d2": ("Volcanoes", "A volcano is a rupture in the crust of a planet through which lava and gases escape."),
    "d3": ("Photosynthesis", "Plants convert light energy into chemical energy stored in glucose by photosynthesis."),
    "d4": ("Tides", "Ocean tides are caused by the gravitational pull of the Moon and the Sun on the oceans."),
    "d5": ("Honey bees", "Honey bees communicate the location of flowers to their hive mates with a waggle dance."),
    "d6": ("Glaciers", "Glaciers are slowly moving masses of ice formed from compacted snow over centuries."),
}
QUERIES = {
    "q1": ("Which birds cannot fly and live in the south?", {"d1"}),
    "q2": ("How do bees tell each other where flowers are?", {"d5"}),
    "q3": ("What causes tides in the sea?", {"d4"}),
    "q4": ("How is ice formed into glaciers and how do plants store energy?", {"d6", "d3"}),
}


def test_metrics_match_hand_computed_values():
    ranked = ["a", "b", "c", "d"]
    assert ndcg_at(ranked, {"a"}, 10) == 1.0
    assert ndcg_at(ranked, {"b"}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at(ranked, {"a", "c"}, 10) == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert ndcg_at(ranked, {"z"}, 10) == 0.0
    assert recall_at(ranked, {"a", "d", "z"}, 100) == pytest.approx(2 / 3)
    assert recall_at(ranked, {"d"}, 3) == 0.0
    assert mrr_at(ranked, {"c", "d"}, 10) == pytest.approx(1 / 3)
    assert mrr_at(ranked, {"d"}, 3) == 0.0


@pytest.fixture
def dataset(tmp_path):
    root = tmp_path / "tiny-beir"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x, "metadata": {}}) + "\n" for i, (t, x) in DOCS.items())
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": q, "text": text, "metadata": {}}) + "\n" for q, (text, _) in QUERIES.items())
    )
    qrels = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, (_, docs) in QUERIES.items() for d in docs]
    (root / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    return root


def test_eval_retrieval_cli_scores_and_reuses_its_index(dataset, tmp_path):
    index = tmp_path / "eval-index"
    first = run_cli("eval-retrieval", str(dataset), "--json", "--index-dir", str(index), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout.strip().splitlines()[-1])
    assert set(result) == {"mode", "queries", "ndcg@10", "recall@100", "mrr@10"}
    assert result["mode"] == "hybrid" and result["queries"] == 4
    assert result["recall@100"] == 1.0  # six documents: every relevant one is somewhere in the top 100
    assert result["mrr@10"] == 1.0 and result["ndcg@10"] > 0.9  # unambiguous questions rank their answer first
    # each document: its title (a citable "title:" chunk, as for every format) and its text
    assert "6 documents" in first.stderr and "12 embedded now" in first.stderr

    again = run_cli("eval-retrieval", str(dataset), "--json", "--mode", "bm25", "--index-dir", str(index), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 embedded now" in again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["mode"] == "bm25"


def test_malformed_dataset_is_a_clear_error(dataset, tmp_path):
    (dataset / "corpus.jsonl").write_text('{"_id": "d1", "title": "x"\n')
    broken = run_cli("eval-retrieval", str(dataset), "--index-dir", str(tmp_path / "i"), cwd=tmp_path)
    assert broken.returncode == 2
    assert "malformed dataset" in broken.stderr and "Traceback" not in broken.stderr
