"""The `semantik` command: `run` the whole stack, `manage` Django with it, `backup` or `restore` it;
`serve` and `triton` are what the containers run."""

from __future__ import annotations

import argparse
import contextlib
import logging
import logging.config
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="semantik", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the embedded stack and serve the UI, API and worker")
    run.add_argument("--host", default=os.environ.get("SEMANTIK_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("SEMANTIK_PORT", "8080")))
    run.add_argument(
        "--no-worker", action="store_true", help="serve only; a separate Celery worker runs the tasks"
    )
    manage = commands.add_parser(
        "manage", help="a Django management command, with the embedded stack started"
    )
    manage.add_argument("args", nargs=argparse.REMAINDER)
    backup = commands.add_parser(
        "backup", help="copy the stack's database, vectors, uploads and model configs into a new folder"
    )
    backup.add_argument("destination", type=Path, help="folder to create (must not exist)")
    restore = commands.add_parser(
        "restore", help="replace the stack's database, vectors and uploads with a backup's (stop it first)"
    )
    restore.add_argument("source", type=Path, help="a folder written by `semantik backup`")
    serve = commands.add_parser(
        "serve", help="migrate, then serve the API and UI; every service given by URL (web container)"
    )
    serve.add_argument("--host", default=os.environ.get("SEMANTIK_HOST", "0.0.0.0"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("SEMANTIK_PORT", "8080")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
    triton = commands.add_parser(
        "triton",
        help="serve the model repository with the bundled tritonserver on the CPU, in the foreground",
    )
    triton.add_argument(
        "--repository", type=Path, default=Path(os.environ.get("MODEL_REPOSITORY", "model_repository"))
    )
    triton.add_argument("--listen", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)")
    triton.add_argument("--http-port", type=int, default=8000)
    triton.add_argument("--grpc-port", type=int, default=8001)
    triton.add_argument("--metrics-port", type=int, default=8002)
    args = parser.parse_args(argv)

    _configure_logging()
    # Ctrl-C is how `semantik run` is meant to stop; everything was shut down on the way out.
    with contextlib.suppress(KeyboardInterrupt):
        _dispatch(args)


def _configure_logging() -> None:
    """Logs as settings.py will configure them (LOG_FORMAT, LOG_LEVEL), from the first line on."""
    from semantik.env import SettingError, get_bool
    from semantik.logs.config import FORMATS, logging_config

    try:
        development = get_bool("DEBUG", default=True)
    except SettingError:
        development = True
    chosen = os.environ.get("LOG_FORMAT", "").strip().lower() or ("console" if development else "json")
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.config.dictConfig(logging_config(level, chosen if chosen in FORMATS else "console"))


def _dispatch(args: argparse.Namespace) -> None:
    if args.command == "run":
        from semantik.stack.runner import RunOptions
        from semantik.stack.runner import run as run_stack

        run_stack(RunOptions(host=args.host, port=args.port, with_worker=not args.no_worker))
    elif args.command == "manage":
        from semantik.stack.runner import manage as manage_django

        manage_django(args.args)
    elif args.command in ("backup", "restore"):
        from semantik.stack import backup

        try:
            if args.command == "backup":
                backup.backup(args.destination)
            else:
                backup.restore(args.source)
        except backup.BackupError as exc:
            raise SystemExit(f"semantik {args.command}: {exc}") from exc
    elif args.command == "serve":
        from semantik.stack.runner import ServeOptions, serve

        serve(ServeOptions(host=args.host, port=args.port, workers=args.workers))
    elif args.command == "triton":
        from semantik.inference.server import TritonServer, serve_forever

        log_dir = os.environ.get("LOG_DIR")
        serve_forever(
            TritonServer(
                args.repository,
                http_port=args.http_port,
                grpc_port=args.grpc_port,
                metrics_port=args.metrics_port,
                log_path=Path(log_dir) / "triton.log" if log_dir else None,
                listen_address=args.listen,
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
