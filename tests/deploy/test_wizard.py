"""`make wizard` (scripts/wizard.py): a valid .env with mode 0600, and generated secrets it never replaces."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

from tests.deploy.compose import ROOT

WIZARD = ROOT / "scripts" / "wizard.py"


def wizard(tmp_path: Path, *arguments: str, answers: str = "") -> subprocess.CompletedProcess[str]:
    if "--defaults" in arguments:  # the default folder is the checkout's documents/: not in a test
        arguments = (*arguments, "--document-path", str(tmp_path / "documents"))
    return subprocess.run(
        [
            sys.executable,
            str(WIZARD),
            "--env-file",
            str(tmp_path / ".env"),
            "--secrets-dir",
            str(tmp_path / "secrets"),
            *arguments,
        ],
        input=answers,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        assert match, f"not a KEY=value line: {line!r}"
        values[match[1]] = match[2].strip("'")
    return values


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_answers_land_in_a_private_env_file(tmp_path: Path) -> None:
    documents = tmp_path / "my documents"
    result = wizard(tmp_path, answers=f"{documents}\ncpu\n127.0.0.1\n8081\n5556\n")
    assert result.returncode == 0, result.stdout + result.stderr
    env = tmp_path / ".env"
    assert mode(env) == 0o600
    values = read_env(env)
    assert values["DOCUMENT_PATH"] == str(documents) and documents.is_dir()
    assert values["COMPOSE_FILE"] == "docker-compose.yml:docker-compose.cpu.yml"
    assert values["COMPOSE_PROFILES"] == "backend"
    assert values["WEB_PORT"] == "8081" and values["FLOWER_PORT"] == "5556"
    assert values["WEB_BIND"] == "127.0.0.1"
    assert "http://localhost:8081" in values["CSRF_TRUSTED_ORIGINS"].split(",")
    assert values["SEMANTIK_UID"].isdigit()
    # A path with a space is quoted, as Compose's .env syntax needs.
    assert f"DOCUMENT_PATH='{documents}'" in env.read_text()
    for folder in ("data", "logs", "models"):
        assert (tmp_path / folder).is_dir()


def test_every_variable_it_writes_is_one_the_compose_files_read(tmp_path: Path) -> None:
    assert wizard(tmp_path, "--defaults").returncode == 0
    compose = "".join((ROOT / name).read_text() for name in ("docker-compose.yml", "docker-compose.cpu.yml"))
    for key in read_env(tmp_path / ".env"):
        assert key.startswith("COMPOSE_") or "${" + key in compose, f"{key} is read by no compose file"


def test_secrets_are_generated_unique_and_private(tmp_path: Path) -> None:
    assert wizard(tmp_path, "--defaults", "--device", "gpu").returncode == 0
    folder = tmp_path / "secrets"
    assert mode(folder) == 0o700
    secrets = {path.name: path.read_text().strip() for path in folder.iterdir()}
    compose = (ROOT / "docker-compose.yml").read_text()
    for name in secrets:
        assert f"file: ./secrets/{name} " in compose
    assert {
        "db_password",
        "jwt_secret",
        "secret_key",
        "admin_password",
        "flower_password",
        "metrics_token",
    } == set(secrets)
    assert len(set(secrets.values())) == len(secrets)
    assert all(len(value) >= 24 for value in secrets.values())
    assert read_env(tmp_path / ".env")["COMPOSE_FILE"] == "docker-compose.yml"


def test_running_it_again_keeps_the_secrets_and_asks_before_replacing_env(tmp_path: Path) -> None:
    assert wizard(tmp_path, "--defaults").returncode == 0
    before = {path.name: path.read_text() for path in (tmp_path / "secrets").iterdir()}
    env_before = (tmp_path / ".env").read_text()

    refused = wizard(tmp_path, answers="n\n")
    assert refused.returncode == 1 and (tmp_path / ".env").read_text() == env_before

    assert wizard(tmp_path, "--defaults", "--force", "--web-port", "9000").returncode == 0
    assert read_env(tmp_path / ".env")["WEB_PORT"] == "9000"
    assert {path.name: path.read_text() for path in (tmp_path / "secrets").iterdir()} == before


def test_a_bad_answer_is_asked_again(tmp_path: Path) -> None:
    result = wizard(tmp_path, answers=f"{tmp_path}\ntpu\ncpu\n\nseventy\n8090\n\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Please answer one of gpu, cpu" in result.stdout and "A port is a number" in result.stdout
    assert read_env(tmp_path / ".env")["WEB_PORT"] == "8090"
