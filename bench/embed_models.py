"""The --embed-model option the benches share, and where each model's results go."""

from __future__ import annotations

import argparse

from rag.embed import model_id


def add_embed_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--embed-model", default="",
                        help="another embedding model than the default: a folder, or a packaged model's name "
                             "(all-mpnet-base-v2); its results go to results/<bench>-<model>.*")


def results_name(bench: str, embed_model: str) -> str:
    """The results' file name without suffix: the bench's own for the default model, "<bench>-<model>" for another,
    so a run with another model never overwrites the default's results."""
    return f"{bench}-{model_id(embed_model)}" if embed_model else bench
