"""reStructuredText and Org files: kept as text with their headings, offsets straight into the file."""

from __future__ import annotations

import pytest

from loader_checks import assert_skipped, chunks_of, find
from rag.loaders.common import tidy
from test_load import load

RST = """\
=================
 The Tide Tables
=================

How to read the tables in this guide.

Installation
============

Run ``pip install tides``. The saltmarrow option is optional.

Configuration
-------------

Set the harbour in the config file.

.. note::

   Directives stay in the text.

----

Usage
=====

Call ``tides.next()``.

::

    not a title
    -----------
"""

ORG = """\
#+TITLE: Garden Journal
#+AUTHOR: Ada
#+STARTUP: overview

Opening notes on the plot.

* TODO [#A] Planting :spring:garden:
:PROPERTIES:
:ID: 42
:END:
Sow the thornbloom seeds in rows.
** Watering
Water at dawn.
#+begin_src shell
* not a headline inside a block
#+end_src
* Harvest
Pick when ripe.
"""


def test_rst_titles_and_levels(tmp_path, embedder):
    text = RST.replace("\n", "\r\n")
    doc = load(tmp_path, "tides.rst", text)
    assert doc.kind == "rst" and doc.title == "The Tide Tables"
    assert doc.text == text  # the file itself: offsets point into it
    # Levels follow the order adornment styles first appear; a transition and a literal block are not titles.
    assert [(h.level, h.text) for h in doc.headings] == [
        (1, "The Tide Tables"),
        (2, "Installation"),
        (3, "Configuration"),
        (2, "Usage"),
    ]
    chunks = chunks_of(doc, embedder)
    for chunk in chunks:
        assert tidy(doc.text[chunk.start : chunk.end].replace("\r", "")) == chunk.text
    assert find(chunks, "saltmarrow").section == "Installation"
    assert find(chunks, "Set the harbour").section == "Installation > Configuration"
    assert find(chunks, "How to read").section == ""  # the document title is the title, not a section


def test_org_headlines_keywords_and_drawers(tmp_path, embedder):
    doc = load(tmp_path, "journal.org", ORG)
    assert doc.kind == "org" and doc.title == "Garden Journal"
    assert doc.metadata == {"title": "Garden Journal", "author": "Ada"}
    assert [(h.level, h.text) for h in doc.headings] == [(1, "Planting"), (2, "Watering"), (1, "Harvest")]
    for gone in ("#+", ":PROPERTIES:", ":ID: 42", ":END:"):
        assert gone not in doc.body
    chunks = chunks_of(doc, embedder)
    for chunk in chunks:
        span = doc.text[chunk.start : chunk.end]
        kept = "\n".join(line for line in span.split("\n") if not line.startswith(("#+", ":")))
        assert tidy(kept) == chunk.text
    assert find(chunks, "thornbloom").section == "Planting"
    assert find(chunks, "not a headline inside a block").section == "Planting > Watering"
    assert find(chunks, "Pick when ripe").section == "Harvest"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.rst", b"", "empty file"),
        ("keywords-only.org", b"#+TITLE: Nothing\n#+AUTHOR: Nobody\n", "no text to index"),
        ("latin1.org", "* caf\u00e9\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_markup_files_are_skipped_with_a_reason(tmp_path, name, data, reason):
    assert_skipped(tmp_path, name, data, reason)
