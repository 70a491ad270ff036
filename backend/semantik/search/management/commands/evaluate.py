"""Score search quality on labelled queries: nDCG@10, recall@k and MRR per mode and reranker setting.

The file is JSON, as POST /api/v2/search/evaluate takes it:
{"collections": [id...], "queries": [{"query": "...", "relevant": [path or document id...]}],
 "modes": ["semantic", "keyword", "hybrid"], "rerank": [false, true, "reranker-name"], "k": 10}
`--collection` adds collections (or gives them when the file has none).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from semantik.collections.models import Collection
from semantik.search.evaluation import Report, evaluate
from semantik.search.serializers import EvaluationRequestSerializer
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreUnavailable


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the labelled queries (JSON)")
        parser.add_argument("--collection", action="append", default=[], help="a collection id (repeatable)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON, not a table")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        if not isinstance(data, dict):
            raise CommandError(f"{options['file']} must hold a JSON object")
        data["collections"] = [*data.get("collections", []), *options["collection"]]
        body = EvaluationRequestSerializer(data=data)
        if not body.is_valid():
            raise CommandError(f"{options['file']} is not a valid evaluation: {json.dumps(body.errors)}")
        request = body.validated_data
        found = {c.pk: c for c in Collection.objects.filter(pk__in=request["collections"])}
        missing = [str(i) for i in request["collections"] if i not in found]
        if missing:
            raise CommandError(f"No collection {', '.join(missing)}")
        try:
            get_vector_store().ping()
        except VectorStoreUnavailable as exc:
            raise CommandError(
                f"{exc}. Use POST /api/v2/search/evaluate on the running server instead."
            ) from exc
        report = evaluate(
            [found[i] for i in request["collections"]],
            request["queries"],
            modes=request["modes"],
            rerank=request["rerank"],
            k=request["k"],
        )
        self.stdout.write(json.dumps(report, indent=2) if options["json"] else table(report))


def table(report: Report) -> str:
    k, skipped = report["k"], len(report["skipped"])
    lines = [
        f"{report['queries']} queries ({skipped} skipped: no relevant document in the collections)",
        f"{'mode':<9} {'rerank':<18} {'nDCG@10':>8} {f'recall@{k}':>9} {'MRR':>7} {'failed':>6} {'ms':>7}",
    ]
    for run in report["runs"]:
        rerank = "no" if run["rerank"] is False else (run["reranker"] or str(run["rerank"]))
        if run["rerank"] is not False and run["reranked"] < run["queries"]:
            rerank += f" ({run['reranked']}/{run['queries']})"
        lines.append(
            f"{run['mode']:<9} {rerank:<18} {run['ndcg_at_10']:>8.4f} {run['recall_at_k']:>9.4f} "
            f"{run['mrr']:>7.4f} {run['failed']:>6} {run['mean_ms']:>7.1f}"
        )
    return "\n".join(lines)
