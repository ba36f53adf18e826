"""The `rag` command's manners: pipes closed early, warnings, quiet stderr, honest "nothing found" messages."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import CORPUS
from test_index import run_cli


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A folder with a copy of corpus/ indexed by `rag index` (cwd for the commands below)."""
    work = tmp_path_factory.mktemp("cli")
    shutil.copytree(CORPUS, work / "corpus")
    indexed = run_cli("index", cwd=work)
    assert indexed.returncode == 0, indexed.stderr
    return work


def test_reader_closing_the_pipe_early_prints_no_traceback(workdir):
    import os

    child = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ask", "What is specification gaming?"], cwd=workdir,
        env={**os.environ, "RAG_EMBED_RUNTIME": "torch"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    child.stdout.close()  # as `| head -0` does, before the answer is written
    stderr = child.stderr.read()
    child.wait(timeout=600)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert child.returncode == 1


def test_status_warns_about_settings_that_search_would_refuse(workdir):
    import os

    env = {**os.environ, "RAG_CHUNK_TOKENS": "120"}
    status = subprocess.run([sys.executable, "-m", "rag.cli", "status"], cwd=workdir, env=env, capture_output=True,
                            text=True, timeout=600)
    assert status.returncode == 0
    assert status.stderr.startswith("warning: the index in index was built with chunk_tokens '200' (now '120')")
    search = subprocess.run([sys.executable, "-m", "rag.cli", "search", "alignment"], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=600)
    assert search.returncode == 2 and "chunk_tokens '200' (now '120')" in search.stderr

    clean = run_cli("status", cwd=workdir)
    assert clean.stderr == "" and "warning" not in clean.stdout


def test_model_loading_draws_no_progress_bar_when_stderr_is_not_a_terminal(workdir):
    found = run_cli("search", "What is specification gaming?", "-k", "1", cwd=workdir)
    assert found.returncode == 0
    assert found.stderr == ""  # no "Loading weights" bar in logs and pipes


def test_bm25_search_without_a_match_says_so(workdir):
    found = run_cli("search", "xylophonequartz", "--mode", "bm25", cwd=workdir)
    assert found.returncode == 0
    assert found.stdout == "no passage matches the query\n"


def test_embed_model_flag_names_another_model_than_the_index_was_built_with(workdir):
    """--embed-model overrides the setting; a packaged model is known by its name before it is ever loaded."""
    status = run_cli("status", "--embed-model", "all-mpnet-base-v2", cwd=workdir)
    assert status.returncode == 0
    assert status.stderr.startswith("warning: the index in index was built with embed_model 'all-MiniLM-L6-v2' "
                                    "(now 'all-mpnet-base-v2')")
