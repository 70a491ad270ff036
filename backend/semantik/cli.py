"""The `semantik` command: `run` the whole stack, or `manage` Django with the embedded services."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys


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
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # Ctrl-C is how `semantik run` is meant to stop; everything was shut down on the way out.
    with contextlib.suppress(KeyboardInterrupt):
        _dispatch(args)


def _dispatch(args: argparse.Namespace) -> None:
    if args.command == "run":
        from semantik.stack.runner import RunOptions
        from semantik.stack.runner import run as run_stack

        run_stack(RunOptions(host=args.host, port=args.port, with_worker=not args.no_worker))
    elif args.command == "manage":
        from semantik.stack.runner import manage as manage_django

        manage_django(args.args)


if __name__ == "__main__":
    main(sys.argv[1:])
