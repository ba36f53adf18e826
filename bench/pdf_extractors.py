"""Which PDF text extractor: pypdf, pypdfium2 and pdfminer.six measured on the two real manuals.

Glued words are the failure that matters (neither BM25 nor the embedding can match
"onecanrequirequestionstobeprinted"), so for each extractor and file this counts tokens of 18+ letters
and runs of 25+ letters (real identifiers of that length are few: compare the extractors), the words
kept, dot-leader lines (contents pages indexed as text), ligature characters left unexpanded, and the
time. The last row is the loader itself (pypdfium2 plus header/footer, contents and hyphen handling).
Writes bench/results/pdf_extractors.md.

    .venv/bin/python bench/pdf_extractors.py [--pdfs ../shared/bench/pdfs]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import logging
import re
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import rag  # noqa: F401
from rag.loaders import pdf as pdf_loader

HERE = Path(__file__).resolve().parent
LONG_TOKEN = re.compile(r"\b[^\W\d_]{18,}\b")
GLUED_RUN = re.compile(r"[^\W\d_]{25,}")
WORD = re.compile(r"[^\W\d_]+")
LEADER = re.compile(r"(?:\. ?){4,}\s*\d+\s*$", re.MULTILINE)
LIGATURE = re.compile("[\ufb00-\ufb06]")


def with_pypdf(data: bytes) -> str:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    return "\n\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def with_pypdfium2(data: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return "\n\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def with_pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def extractors() -> dict:
    """The candidates installed: pypdfium2 is a dependency, pypdf a test one; ``pip install pdfminer.six``
    to compare the reference too."""
    found = {}
    for name, module, extract in (("pypdf", "pypdf", with_pypdf), ("pypdfium2 (plain text)", "pypdfium2", with_pypdfium2),
                                  ("pdfminer.six", "pdfminer", with_pdfminer)):
        if importlib.util.find_spec(module) is not None:
            found[name] = extract
    found["rag.loaders.pdf (pypdfium2 + cleaning)"] = lambda data: pdf_loader.load("x.pdf", data).text
    return found


def installed(distribution: str) -> bool:
    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


def measure(text: str, seconds: float) -> dict:
    return {
        "tokens 18+ letters": len(LONG_TOKEN.findall(text)),
        "runs 25+ letters": len(GLUED_RUN.findall(text)),
        "words": len(WORD.findall(text)),
        "dot-leader lines": len(LEADER.findall(text)),
        "ligatures": len(LIGATURE.findall(text)),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", type=Path, default=HERE.parent.parent / "shared" / "bench" / "pdfs")
    args = parser.parse_args()
    files = sorted(args.pdfs.glob("*.pdf"))
    columns = list(measure("", 0))
    lines = [
        f"# PDF text extractors on {len(files)} real manuals (bench/pdf_extractors.py)",
        "",
        "Per file: tokens of 18+ letters and runs of 25+ letters (glued words; the few real identifiers that long "
        "show as the floor the best extractors share), words, dot-leader lines (contents pages), unexpanded "
        "ligatures, seconds for the whole file. `rag.loaders.pdf` also drops headers/footers and contents pages.",
        "",
    ]
    for path in files:
        data = path.read_bytes()
        lines += [f"## {path.name}", "", "| extractor | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
        for name, extract in extractors().items():
            started = time.perf_counter()
            text = extract(data)
            row = measure(text, time.perf_counter() - started)
            lines.append(f"| {name} | " + " | ".join(str(row[c]) for c in columns) + " |")
            sample = sorted(set(GLUED_RUN.findall(text)), key=len, reverse=True)[:3]
            if sample:
                lines.append(f"| ↳ longest runs | {', '.join(s[:60] for s in sample)} |" + " |" * (len(columns) - 1))
        lines.append("")
    versions = ", ".join(f"{name} {version(name)}" for name in ("pypdf", "pypdfium2", "pdfminer.six") if installed(name))
    lines += [
        f"Versions: {versions}.",
        "",
        "Choice: pypdfium2. It keeps the words apart on both producers (pypdf glues the DocBook manual's words, "
        "pdfminer.six those of the LaTeX manual's typeset examples), is an order of magnitude faster than both, "
        "marks the line-end hyphens it joins, and gives each character's font and position (what the "
        "header/footer and code-listing detection need).",
        "",
    ]
    out = HERE / "results" / "pdf_extractors.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
