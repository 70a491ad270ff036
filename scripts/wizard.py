"""`make wizard`: set up the compose stack. Asks a few questions, writes .env and secrets/.

- .env (mode 0600): what docker compose reads for the ${...} in docker-compose*.yml: the document
  folder, GPU or CPU (COMPOSE_FILE), the profiles, ports, addresses, the host account's ids.
- secrets/ (folder 0700): generated passwords and keys, one file each, used as Docker secrets.
  Existing ones are kept, so running the wizard again never locks the stack out of its own
  database. Their files are 0644 inside the private folder: each container reads its bind-mounted
  copy as its image's own account (postgres, Semantik's uid 1000, ...), while on the host only the
  folder's owner can reach them.

Standard library only: it runs before anything is installed. `--defaults` answers every question
with its default (for scripts); each answer can also be given as an option.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "db_password": 32,
    "secret_key": 50,
    "jwt_secret": 50,
    "admin_password": 18,
    "metrics_token": 32,
    "flower_password": 18,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write .env and secrets/ for docker compose.")
    parser.add_argument("--defaults", action="store_true", help="accept every default, ask nothing")
    parser.add_argument("--force", action="store_true", help="overwrite an existing .env without asking")
    parser.add_argument("--document-path", help="the folder with your documents (mounted read-only)")
    parser.add_argument(
        "--device", choices=("gpu", "cpu"), help="where Triton runs (default: gpu if nvidia-smi works)"
    )
    parser.add_argument("--web-port", type=int)
    parser.add_argument("--flower-port", type=int)
    parser.add_argument(
        "--bind", help="address the web UI and Flower listen on (127.0.0.1: this machine only)"
    )
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env")
    parser.add_argument("--secrets-dir", type=Path, default=ROOT / "secrets")
    args = parser.parse_args(argv)

    env_file: Path = args.env_file
    replace = args.force or not env_file.exists()
    if not replace and (args.defaults or not ask_yes(f"{env_file} exists. Replace it?", default=False)):
        print(f"Kept {env_file}; nothing written (use --force to replace it).")
        return 1

    answers = Answers(args.defaults)
    documents = Path(
        answers.ask("Folder with your documents", args.document_path, str(ROOT / "documents"))
    ).expanduser()
    documents = documents if documents.is_absolute() else (ROOT / documents)
    if not documents.is_dir():
        print(f"  {documents} does not exist; it is created (empty).")
        documents.mkdir(parents=True, exist_ok=True)
    has_gpu = shutil.which("nvidia-smi") is not None
    device = answers.choose(
        "Run Triton on the GPU or the CPU", args.device, "gpu" if has_gpu else "cpu", ("gpu", "cpu")
    )
    bind = answers.ask("Address for the web UI and Flower (0.0.0.0: every interface)", args.bind, "127.0.0.1")
    web_port = answers.port("Web UI port", args.web_port, 8080)
    flower_port = answers.port("Flower port", args.flower_port, 5555)

    hosts = ["localhost", "127.0.0.1"] + ([] if bind in ("127.0.0.1", "0.0.0.0", "localhost") else [bind])
    if bind == "0.0.0.0":
        hosts.append(os.uname().nodename)
    compose_files = ["docker-compose.yml"] + (["docker-compose.cpu.yml"] if device == "cpu" else [])
    values = {
        "COMPOSE_FILE": os.pathsep.join(compose_files),
        "COMPOSE_PROFILES": "backend",
        "DOCUMENT_PATH": str(documents.resolve()),
        "WEB_BIND": bind,
        "WEB_PORT": str(web_port),
        "FLOWER_PORT": str(flower_port),
        "ALLOWED_HOSTS": ",".join(dict.fromkeys(hosts)),
        "CSRF_TRUSTED_ORIGINS": ",".join(f"http://{host}:{web_port}" for host in dict.fromkeys(hosts)),
        "SEMANTIK_UID": str(os.getuid()),
        "SEMANTIK_GID": str(os.getgid()),
        "LOG_LEVEL": "INFO",
    }
    created = write_secrets(args.secrets_dir)
    write_env(env_file, values)
    # Made now, by this account: Docker would create missing bind-mount folders as root.
    for folder in ("data", "logs", "models"):
        (env_file.parent / folder).mkdir(exist_ok=True)

    print(f"\nWrote {env_file} (mode 0600).")
    print(
        f"Secrets in {args.secrets_dir}/: " + (f"generated {', '.join(created)}" if created else "all kept")
    )
    print(f"Administrator: admin, password in {args.secrets_dir / 'admin_password'}")
    print(f"Next: make docker-up, then open http://{'localhost' if bind == '0.0.0.0' else bind}:{web_port}")
    return 0


class Answers:
    """Questions on the terminal, or their defaults with --defaults; an option given answers its question."""

    def __init__(self, use_defaults: bool) -> None:
        self.use_defaults = use_defaults

    def ask(self, question: str, given: str | None, default: str) -> str:
        if given is not None:
            return given
        if self.use_defaults:
            return default
        answer = input(f"{question} [{default}]: ").strip()
        return answer or default

    def choose(self, question: str, given: str | None, default: str, choices: tuple[str, ...]) -> str:
        while True:
            answer = self.ask(f"{question} ({'/'.join(choices)})", given, default).lower()
            if answer in choices:
                return answer
            print(f"  Please answer one of {', '.join(choices)}.")
            given = None

    def port(self, question: str, given: int | None, default: int) -> int:
        while True:
            answer = self.ask(question, None if given is None else str(given), str(default))
            if answer.isdigit() and 1 <= int(answer) <= 65535:
                return int(answer)
            print("  A port is a number from 1 to 65535.")
            if given is not None:
                raise SystemExit(f"--port {given} is not a port")


def ask_yes(question: str, default: bool) -> bool:
    answer = input(f"{question} [{'Y/n' if default else 'y/N'}]: ").strip().lower()
    return default if not answer else answer.startswith("y")


def write_secrets(folder: Path) -> list[str]:
    """Generate each missing secret; returns the names generated."""
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    created = []
    for name, length in SECRETS.items():
        path = folder / name
        if path.exists() and path.read_text().strip():
            continue
        write_private(path, secrets.token_urlsafe(length) + "\n", mode=0o644)
        created.append(name)
    return created


def write_env(path: Path, values: dict[str, str]) -> None:
    lines = [
        f"# Written by `make wizard` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; docker compose reads it.",
        "# Secrets are not here: they are files in secrets/ (Docker secrets). More settings: semantik.env.",
        *(f"{key}={quote(value)}" for key, value in values.items()),
    ]
    write_private(path, "\n".join(lines) + "\n", mode=0o600)


def write_private(path: Path, text: str, mode: int) -> None:
    """Write the file whole, created with `mode` from the start (never readable by others in between)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    partial.chmod(mode)
    partial.replace(path)


def quote(value: str) -> str:
    # Compose's .env syntax: a value with spaces or # needs quotes; single quotes take it literally.
    if value and all(c.isalnum() or c in "/._-:,@+=" for c in value):
        return value
    return "'" + value.replace("'", "") + "'"


if __name__ == "__main__":
    sys.exit(main())
