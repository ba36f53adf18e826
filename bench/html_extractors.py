"""Which main-content extractor for web pages without a landmark: measured on the pydocs pages.

Truth is each page's main content as the landmark (``div.body role=main``) gives it. Each page is
then stripped of its landmarks and Sphinx's sidebar / related / footer markers (a generic "div soup"
site) and read by each candidate; content kept is the share of the truth's words recovered, boilerplate
the share of extra words and the count of sidebar phrases left. Candidates not installed are skipped
(only trafilatura is a dependency: ``pip install resiliparse readability-lxml`` to compare them all).
Writes bench/results/html_extractors.md.

    .venv/bin/python bench/html_extractors.py [--pages ../shared/bench/pydocs]
"""

from __future__ import annotations

import argparse
import collections
import re
import time
from pathlib import Path

import rag  # noqa: F401
from rag.loaders.html_page import _dense_main_content, page_text

HERE = Path(__file__).resolve().parent
SIDEBAR_PHRASES = ("Previous topic", "Next topic", "This Page", "Quick search", "Show Source", "Report a Bug",
                   "Table of Contents", "modules |")
WORD = re.compile(r"\w+")


def without_landmarks(markup: str) -> str:
    markup = markup.replace('role="main"', "").replace('class="body"', 'class="x"')
    markup = markup.replace('role="navigation"', "").replace('role="search"', "")
    markup = re.sub(r'class="(sphinxsidebar|related|footer)"', 'class="y"', markup)
    return re.sub(r"<(/?)nav\b", r"<\1div", markup)


def words(text: str) -> collections.Counter:
    return collections.Counter(WORD.findall(text.lower()))


def candidates() -> dict:
    found = {"none (whole page minus nav/footer)": lambda markup: page_text(markup).text}
    try:
        import trafilatura

        found["trafilatura"] = lambda markup: trafilatura.extract(markup, include_tables=True) or ""
    except ImportError:
        pass
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        found["resiliparse main_content"] = lambda m: extract_plain_text(HTMLTree.parse(m), main_content=True)
    except ImportError:
        pass
    try:
        from readability import Document as Readability

        found["readability-lxml"] = lambda markup: page_text(Readability(markup).summary(html_partial=True)).text
    except ImportError:
        pass
    try:
        import justext

        found["jusText"] = lambda markup: "\n".join(
            p.text for p in justext.justext(markup.encode(), justext.get_stoplist("English")) if not p.is_boilerplate
        )
    except ImportError:
        pass
    found["ours: drop blocks trafilatura rejects that are link-dense"] = lambda markup: _dense_main_content(
        page_text(markup), markup
    ).text
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=HERE.parent.parent / "shared" / "bench" / "pydocs")
    args = parser.parse_args()
    pages = sorted(args.pages.rglob("*.html"))
    methods = candidates()
    totals = {name: [0, 0, 0, 0, 0.0] for name in methods}  # kept, extra, phrases, pages losing half, seconds
    truth_total = 0
    for path in pages:
        markup = path.read_text(encoding="utf-8")
        truth = words(page_text(markup).text)
        size = sum(truth.values())
        truth_total += size
        soup = without_landmarks(markup)
        for name, extract in methods.items():
            started = time.perf_counter()
            text = extract(soup)
            row = totals[name]
            row[4] += time.perf_counter() - started
            got = words(text)
            kept = sum((truth & got).values())
            row[0] += kept
            row[1] += sum((got - truth).values())
            row[2] += sum(phrase in text for phrase in SIDEBAR_PHRASES)
            row[3] += kept < size / 2
    lines = [
        f"# Main-content extractors on {len(pages)} pydocs pages without landmarks",
        "",
        "| extractor | main content kept | extra words (share) | sidebar phrases left | pages losing > 50 % | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for name, (kept, extra, phrases, losing, seconds) in totals.items():
        lines.append(
            f"| {name} | {kept / truth_total:.3f} | {extra / truth_total:.3f} | {phrases} | {losing} | {seconds:.1f} |"
        )
    report = "\n".join(lines) + "\n"
    (HERE / "results" / "html_extractors.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
