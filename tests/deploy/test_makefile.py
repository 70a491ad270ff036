"""The Makefile's deployment targets: they exist, and without Docker they stop with a clear message."""

from __future__ import annotations

import subprocess

import pytest

from tests.deploy.compose import ROOT

DOCKER_TARGETS = ["docker-up", "docker-down", "docker-logs", "docker-build-fresh"]
SEED_TARGETS = [
    "wizard",
    *DOCKER_TARGETS,
    "dev-install",
    "format",
    "lint",
    "test",
    "test-coverage",
    "check",
    "frontend-install",
    "frontend-build",
    "frontend-dev",
    "frontend-test",
]


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_target_of_the_seed_exists() -> None:
    database = make("-pRrq", "-f", "Makefile", ":").stdout
    defined = {
        line.split(":")[0]
        for line in database.splitlines()
        if ":" in line and not line.startswith(("#", "\t"))
    }
    assert set(SEED_TARGETS) <= defined, set(SEED_TARGETS) - defined


@pytest.mark.parametrize("target", DOCKER_TARGETS)
def test_docker_targets_fail_clearly_without_docker(target: str) -> None:
    # A compose command that does not exist stands for a machine without Docker.
    result = make(target, "DOCKER_COMPOSE=semantik-no-such-docker compose")
    assert result.returncode != 0
    assert f"make {target}: needs Docker Engine with the Compose v2 plugin" in result.stdout
    assert "make run" in result.stdout


def test_wizard_runs_the_set_up_script() -> None:
    assert "scripts/wizard.py" in make("-n", "wizard").stdout


def test_test_coverage_measures_the_package() -> None:
    assert "pytest --cov=semantik" in make("-n", "test-coverage").stdout


def test_check_audits_python_and_npm_dependencies_but_test_does_not() -> None:
    check = make("-n", "check").stdout
    assert "pip-audit --strict --skip-editable" in check
    assert "npm audit --audit-level=high" in check
    # The audits need the network; `make test` must pass without one.
    test = make("-n", "test").stdout
    assert "pip-audit" not in test and "npm audit" not in test
