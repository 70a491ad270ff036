"""A labelled query set for `semantik manage evaluate`, built from the Python documentation.

Two kinds of queries, each with the pages that answer it:

- a glossary term ("generator expression") -> the pages its glossary entry links to (the
  glossary page itself is left out: it defines every term, so it would answer them all);
- a section title ("Fancier Output Formatting") -> the page holding that section, for titles of
  two words or more that appear on one page only.

Paths are relative to the documentation root, as Semantik names the documents of a source added
at that root (or at a copy of it, as `make bench-index` makes). The corpus is Debian's
python3.11-doc (`apt-get install python3.11-doc`). JSON goes to stdout:

    python scripts/eval/python_docs.py > python-docs.json
    python scripts/eval/python_docs.py --under tutorial/ --sections 30 > tutorial.json
    semantik manage evaluate python-docs.json --collection $COLLECTION
"""

from __future__ import annotations

import argparse
import json
import posixpath
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path("/usr/share/doc/python3.11/html")
# Pages that list or index everything: never the answer to a query.
NOT_ANSWERS = re.compile(r"^(genindex.*|py-modindex|search|contents|glossary|index)\.html$")
_WORDS = re.compile(r"\w+")


def pages(root: Path, under: str) -> list[str]:
    """Every documentation page under the prefix, as a path relative to the root."""
    found = (p.relative_to(root).as_posix() for p in root.rglob("*.html") if "_sources" not in p.parts)
    return sorted(p for p in found if p.startswith(under))


def glossary_queries(root: Path, wanted: set[str]) -> list[dict[str, object]]:
    soup = BeautifulSoup((root / "glossary.html").read_text(encoding="utf-8"), "lxml")
    queries = []
    for term in soup.select('dt[id^="term-"]'):
        for link in term.select("a.headerlink"):
            link.decompose()
        definition = term.find_next_sibling("dd")
        name = term.get_text(" ", strip=True)
        if definition is None or not _WORDS.search(name):  # ">>>" and "..." are no queries
            continue
        linked = set()
        for link in definition.select("a[href]"):
            target = str(link["href"]).split("#", 1)[0]
            if not target or "://" in target:
                continue
            page = posixpath.normpath(target)
            if page in wanted and not NOT_ANSWERS.match(page):
                linked.add(page)
        if linked:
            queries.append({"query": name, "relevant": sorted(linked), "kind": "glossary"})
    return queries


def section_queries(root: Path, candidates: list[str]) -> list[dict[str, object]]:
    by_title: dict[str, set[str]] = defaultdict(set)
    spelled: dict[str, str] = {}
    for page in candidates:
        if NOT_ANSWERS.match(page):
            continue
        soup = BeautifulSoup((root / page).read_text(encoding="utf-8", errors="replace"), "lxml")
        body = soup.select_one('div[role="main"]') or soup.body
        if body is None:
            continue
        for heading in body.select("section > h2, section > h3"):
            for noise in heading.select("a.headerlink, span.section-number"):
                noise.decompose()
            title = " ".join(heading.get_text(" ", strip=True).split())
            if len(_WORDS.findall(title)) < 2:
                continue
            key = title.casefold()
            by_title[key].add(page)
            spelled.setdefault(key, title)
    return [
        {"query": spelled[key], "relevant": sorted(found), "kind": "section"}
        for key, found in sorted(by_title.items())
        if len(found) == 1
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the HTML documentation's root")
    parser.add_argument("--under", default="", help="only pages under this prefix (tutorial/, library/)")
    parser.add_argument("--glossary", type=int, help="at most this many glossary queries (default: all)")
    parser.add_argument("--sections", type=int, default=300, help="at most this many section-title queries")
    parser.add_argument("--seed", type=int, default=0, help="which sample of them, reproducibly")
    parser.add_argument("-k", type=int, default=10, help="the k of recall@k")
    args = parser.parse_args()
    if not (args.root / "glossary.html").is_file():
        sys.exit(f"{args.root} holds no Python documentation: apt-get install python3.11-doc")

    candidates = pages(args.root, args.under)
    sample = random.Random(args.seed)
    glossary = glossary_queries(args.root, set(candidates))
    if args.glossary is not None and len(glossary) > args.glossary:
        glossary = sorted(sample.sample(glossary, args.glossary), key=lambda q: str(q["query"]))
    sections = section_queries(args.root, candidates)
    if len(sections) > args.sections:
        sections = sorted(sample.sample(sections, args.sections), key=lambda q: str(q["query"]))
    print(
        f"{len(glossary)} glossary and {len(sections)} section queries over {len(candidates)} pages",
        file=sys.stderr,
    )
    labelled = {
        "source": f"{args.root} ({args.under or 'all pages'}); paths relative to it",
        "modes": ["semantic", "keyword", "hybrid"],
        "k": args.k,
        "queries": glossary + sections,
    }
    json.dump(labelled, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
