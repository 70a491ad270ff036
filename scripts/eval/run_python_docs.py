"""Search quality end to end: index part of the Python documentation, evaluate every mode through the API.

Copies the pages under `--under` (default: the tutorial, the language reference and the FAQ) of
Debian's python3.11-doc into a fresh data directory, starts `semantik run` on it, indexes them as
one collection through the REST API, builds the labelled queries with `python_docs.py` (glossary
terms and section titles of those pages), and posts them to `POST /api/v2/search/evaluate`.
Prints the report as one JSON object on stdout (nDCG@10, recall@k and MRR per mode); progress on
stderr.

    make eval-search      # or: .venv/bin/python scripts/eval/run_python_docs.py [--under tutorial/]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DOCS = Path("/usr/share/doc/python3.11/html")
PASSWORD = "eval-password-1"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def labelled_set(root: Path, pages: list[str], sections: int) -> dict:
    spec = importlib.util.spec_from_file_location("python_docs", ROOT / "scripts" / "eval" / "python_docs.py")
    assert spec is not None and spec.loader is not None
    docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(docs)
    import random

    glossary = docs.glossary_queries(root, set(pages))
    found = docs.section_queries(root, pages)
    if len(found) > sections:
        found = sorted(random.Random(0).sample(found, sections), key=lambda q: str(q["query"]))
    return {"queries": glossary + found, "glossary": len(glossary), "sections": len(found)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--under", default="tutorial/,reference/,faq/", help="comma-separated page prefixes to index"
    )
    parser.add_argument("--sections", type=int, default=300, help="at most this many section-title queries")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    if not (DOCS / "glossary.html").is_file():
        sys.exit(f"{DOCS} is missing: apt-get install python3.11-doc")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from semantik.testing.served import semantik_run

    prefixes = tuple(p for p in args.under.split(",") if p)
    pages = sorted(
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.html")
        if "_sources" not in p.parts and p.relative_to(DOCS).as_posix().startswith(prefixes)
    )
    work = Path(tempfile.mkdtemp(prefix="semantik-eval-"))
    work.chmod(0o755)
    documents = work / "documents" / "python-docs"
    for page in pages:
        (documents / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(DOCS / page, documents / page)
    labelled = labelled_set(DOCS, pages, args.sections)
    log(f"{len(pages)} pages; {labelled['glossary']} glossary and {labelled['sections']} section queries")

    try:
        with semantik_run(
            work / "data",
            work / "documents",
            work / "run.log",
            env={"SEMANTIK_ADMIN_PASSWORD": PASSWORD, "THROTTLE_SEARCH": "none", "THROTTLE_USER": "none"},
        ) as served:
            report, detail = evaluate(served.url, documents, labelled["queries"])
        print(
            json.dumps(
                {
                    "pages": len(pages),
                    "chunks": detail["chunk_count"],
                    "queries": len(labelled["queries"]),
                    "glossary_queries": labelled["glossary"],
                    "section_queries": labelled["sections"],
                    "report": report,
                }
            )
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def evaluate(url: str, documents: Path, queries: list[dict]) -> tuple[dict, dict]:
    """Index `documents` as a new collection, then evaluate `queries` on it: (report, collection)."""
    login = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access']}"}
    with httpx.Client(base_url=url, headers=headers, timeout=600) as http:
        collection = http.post("/api/v2/collections", json={"name": "Python docs (eval)"}).json()
        started = time.monotonic()
        operation = http.post(
            f"/api/v2/collections/{collection['id']}/sources", json={"path": str(documents)}
        ).json()
        while True:
            state = http.get(f"/api/v2/operations/{operation['operation_id']}").json()
            if state["status"] in {"completed", "failed", "cancelled"}:
                break
            time.sleep(0.5)
        if state["status"] != "completed":
            sys.exit(f"indexing ended {state['status']}: {state.get('error')}")
        detail = http.get(f"/api/v2/collections/{collection['id']}").json()
        seconds = time.monotonic() - started
        log(f"indexed {detail['document_count']} pages, {detail['chunk_count']} chunks, {seconds:.0f} s")
        report = http.post(
            "/api/v2/search/evaluate",
            json={
                "collections": [collection["id"]],
                "queries": queries,
                "modes": ["semantic", "keyword", "hybrid"],
                "rerank": [False],
                "k": 10,
            },
        )
        if report.status_code != 200:
            sys.exit(f"evaluate answered {report.status_code}: {report.text}")
        return report.json(), detail


if __name__ == "__main__":
    main()
