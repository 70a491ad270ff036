"""scripts/*.sh: valid shell, clean under shellcheck, and their argument handling and failures clear."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from semantik.stack.ports import find_free_port
from tests.deploy.compose import ROOT

SCRIPTS = sorted((ROOT / "scripts").glob("*.sh"))


def run(*command: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


def test_the_scripts_are_there_and_executable() -> None:
    names = {script.name for script in SCRIPTS}
    assert {"backup.sh", "restore.sh", "health-check.sh", "docker-entrypoint.sh"} <= names
    for script in SCRIPTS:
        assert script.stat().st_mode & 0o111, f"{script.name} is not executable"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_script_parses(script: Path) -> None:
    shell = "sh" if script.read_text().startswith("#!/bin/sh") else "bash"
    result = run(shell, "-n", script)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    shutil.which("shellcheck") is None, reason="shellcheck is not installed (apt-get install shellcheck)"
)
def test_shellcheck_finds_nothing() -> None:
    result = run("shellcheck", *SCRIPTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_entrypoint_runs_any_other_command_as_given() -> None:
    result = run("sh", ROOT / "scripts" / "docker-entrypoint.sh", "echo", "as", "given")
    assert result.returncode == 0 and result.stdout == "as given\n"


def test_backup_refuses_what_it_does_not_know() -> None:
    assert run(ROOT / "scripts" / "backup.sh", "--frobnicate").returncode == 2
    result = run(ROOT / "scripts" / "backup.sh", "--stack", "kubernetes")
    assert result.returncode == 2 and "compose or embedded" in result.stderr


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path: Path) -> None:
    result = run(ROOT / "scripts" / "restore.sh", tmp_path, "--yes")
    assert result.returncode == 1 and "is not a Semantik backup" in result.stderr


def test_restore_asks_for_confirmation_before_replacing_anything(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"format": 1, "stack": "embedded"}')
    (tmp_path / "postgres.dump").write_bytes(b"")
    result = run(ROOT / "scripts" / "restore.sh", tmp_path, stdin=subprocess.DEVNULL)
    assert result.returncode == 1 and "confirm with --yes" in result.stderr


def test_health_check_prints_a_table_and_fails_when_the_web_is_down() -> None:
    url = f"http://127.0.0.1:{find_free_port()}"
    result = run(ROOT / "scripts" / "health-check.sh", "--stack", "embedded", "--url", url)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "STATUS", "DETAIL"]
    assert lines[1].split()[:2] == ["web", "/api/health/livez"] and lines[1].split()[2] == "down"
    assert lines[2].split()[:3] == ["web", "readiness", "down"]
