"""docker-compose.yml and its overrides: valid Compose files with the services, ports, profiles, health
checks, hardening, secrets and volumes the deployment promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.deploy.compose import (
    ROOT,
    Override,
    OverrideList,
    Reset,
    interpolate,
    load,
    published_ports,
    schema,
)

COMPOSE_FILES = ["docker-compose.yml", "docker-compose.cpu.yml", "docker-compose.multihost.yml"]
CORE = {"postgres", "redis", "qdrant", "models", "triton", "web"}
BACKEND = {"worker", "beat", "flower"}
APP = {"web", "worker", "beat"}  # Semantik's own image, its settings and secrets
ONE_SHOT = {"models"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load("docker-compose.yml")


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_each_compose_file_is_valid_against_the_compose_specification(name: str) -> None:
    data = load(name)
    validator = jsonschema.Draft7Validator(schema())
    validator.validate(data)
    # And as Compose sees it once ${...} take their defaults (multihost needs its host).
    validator.validate(interpolate(data, {"MAIN_HOST": "10.0.0.10"}))


def test_the_schema_rejects_what_compose_rejects() -> None:
    # A schema that accepted anything would make the test above worthless.
    broken = {"services": {"web": {"image": "x", "ports": "8080:8080", "restart_policy": "always"}}}
    jsonschema.Draft7Validator.check_schema(schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema()).validate(broken)


def test_the_design_services_are_there_in_their_profiles(services: dict[str, Any]) -> None:
    assert set(services) == CORE | BACKEND
    for name in CORE:
        assert "profiles" not in services[name], f"{name} belongs to the default (core) set"
    for name in BACKEND:
        assert services[name]["profiles"] == ["backend"], name


def test_services_publish_the_design_ports_on_loopback_by_default(services: dict[str, Any]) -> None:
    expected = {
        "postgres": {5432: "5432"},
        "redis": {6379: "6379"},
        "qdrant": {6333: "6333", 6334: "6334"},
        "triton": {8000: "8000", 8001: "8001", 8002: "8002"},
        "web": {8080: "8080"},
        "flower": {5555: "5555"},
        # A range, so that scaled workers each publish theirs.
        "worker": {9091: "9091-9099"},
    }
    for name, ports in expected.items():
        published = published_ports(services[name])
        assert {target: host for target, (_, host) in published.items()} == ports, name
        assert {address for address, _ in published.values()} == {"127.0.0.1"}, name


def test_images_are_the_design_ones(services: dict[str, Any]) -> None:
    assert services["postgres"]["image"] == "postgres:16-alpine"
    assert services["redis"]["image"] == "redis:7-alpine"
    assert interpolate(services["qdrant"]["image"]).startswith("qdrant/qdrant:")
    assert services["triton"]["build"]["target"] == "triton"
    for name in APP:
        assert services[name]["build"] == {"context": ".", "target": "runtime"}, name
    assert services["models"]["build"]["target"] == "models"


def test_redis_keeps_an_append_only_file(services: dict[str, Any]) -> None:
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "redis_data:/data" in services["redis"]["volumes"]


def test_named_volumes_hold_the_stores(compose: dict[str, Any], services: dict[str, Any]) -> None:
    assert set(compose["volumes"]) == {"postgres_data", "qdrant_storage", "redis_data"}
    assert "postgres_data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "qdrant_storage:/qdrant/storage" in services["qdrant"]["volumes"]


def test_app_containers_bind_mount_data_models_logs_and_documents_read_only(services: dict[str, Any]) -> None:
    for name in APP:
        mounts = {}
        for volume in interpolate(services[name]["volumes"]):
            source, target, *mode = volume.split(":")
            mounts[target] = (source, mode)
        assert mounts["/app/data"] == ("./data", []), name
        assert mounts["/models"] == ("./models", ["ro"]), name
        assert mounts["/app/logs"] == ("./logs", []), name
        assert mounts["/documents"] == ("./documents", ["ro"]), name
    assert "${DOCUMENT_PATH:-./documents}:/documents:ro" in services["web"]["volumes"]
    assert services["models"]["volumes"] == ["./models:/models"]


def test_every_service_is_on_the_semantik_bridge_network(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    assert compose["networks"] == {"semantik-network": {"driver": "bridge"}}
    for name, service in services.items():
        assert service["networks"] == ["semantik-network"], name


def test_every_long_running_service_has_a_health_check(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            # A job that exits: the image's HEALTHCHECK would only ever report it unhealthy.
            assert service["healthcheck"] == {"disable": True}
            assert service["restart"] == "no"
            continue
        check = service["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert check["interval"] and check["timeout"] and check["retries"], name
        assert service["restart"] == "unless-stopped", name


def test_services_start_in_order_of_health(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            wanted = condition["condition"]
            if dependency in ONE_SHOT:
                assert wanted == "service_completed_successfully", (name, dependency)
            elif dependency == "worker":  # Flower shows workers as they come
                assert wanted == "service_started"
            else:
                assert wanted == "service_healthy", (name, dependency)
                assert "test" in services[dependency]["healthcheck"], dependency
    assert set(services["web"]["depends_on"]) == {"postgres", "redis", "qdrant", "triton"}
    # The worker starts after the web container has migrated the database.
    assert services["worker"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert services["triton"]["depends_on"] == {"models": {"condition": "service_completed_successfully"}}


def test_every_service_has_cpu_and_memory_limits(services: dict[str, Any]) -> None:
    for name, service in services.items():
        limits = interpolate(service["deploy"]["resources"]["limits"])
        assert float(limits["cpus"]) > 0, name
        assert limits["memory"][-1] in "mg" and int(limits["memory"][:-1]) > 0, name


def test_every_service_is_hardened_and_runs_as_a_non_root_user(services: dict[str, Any]) -> None:
    for name, service in services.items():
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert service["cap_drop"] == ["ALL"], name
        assert "cap_add" not in service, name
        assert "privileged" not in service, name
        user = str(interpolate(service["user"]))
        uid = user.split(":")[0]
        assert uid.isdigit() and int(uid) != 0, f"{name} runs as {user!r}"


def test_triton_reserves_a_gpu_and_mounts_the_model_repository(services: dict[str, Any]) -> None:
    triton = services["triton"]
    devices = triton["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]
    assert "./models:/models:ro" in triton["volumes"]
    assert "--model-repository=/models" in triton["command"]


def test_secrets_are_docker_secrets_read_through_file_variables(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    declared = compose["secrets"]
    assert {"db_password", "jwt_secret", "secret_key"} <= set(declared)
    for name, secret in declared.items():
        assert secret == {"file": f"./secrets/{name}"}
    for name in APP:
        environment = services[name]["environment"]
        assert environment["DATABASE_PASSWORD_FILE"] == "/run/secrets/db_password"
        assert environment["JWT_SIGNING_KEY_FILE"] == "/run/secrets/jwt_secret"
        assert environment["SECRET_KEY_FILE"] == "/run/secrets/secret_key"
        for key, value in environment.items():
            if key.endswith("_FILE"):
                assert value.removeprefix("/run/secrets/") in services[name]["secrets"], (name, key)
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    assert "db_password" in services["postgres"]["secrets"]
    # No secret value in any environment: only *_FILE paths.
    for name, service in services.items():
        for key, value in dict(service.get("environment", {})).items():
            if any(word in key for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")):
                assert key.endswith("_FILE"), f"{name}: {key}={value!r} puts a secret in the environment"


def test_the_settings_read_every_secret_the_compose_file_hands_over(
    services: dict[str, Any], tmp_path: Path
) -> None:
    """The web container's environment, its /run/secrets files swapped for temporary ones, gives
    Semantik's settings exactly the secrets' contents."""
    environment = {key: str(value) for key, value in interpolate(services["web"]["environment"]).items()}
    for key, value in list(environment.items()):
        if value.startswith("/run/secrets/"):
            secret = tmp_path / Path(value).name
            secret.write_text(f"value-of-{secret.name}\n")
            environment[key] = str(secret)
    environment.update(
        DATA_DIR=str(tmp_path / "data"), LOG_DIR=str(tmp_path / "logs"), DOCUMENT_PATH=str(tmp_path)
    )
    probe = (
        "from django.conf import settings as s; import json; print(json.dumps(["
        "s.SECRET_KEY, s.JWT_SIGNING_KEY, s.DATABASES['default']['PASSWORD'], "
        "s.SEMANTIK_ADMIN_PASSWORD, s.METRICS_TOKEN, s.DEBUG, s.LOG_FORMAT]))"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "backend"), **environment}
    env["DJANGO_SETTINGS_MODULE"] = "semantik.settings"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '["value-of-secret_key", "value-of-jwt_secret", "value-of-db_password", '
        '"value-of-admin_password", "value-of-metrics_token", false, "json"]'
    )


def test_flower_asks_for_a_password_from_a_secret(services: dict[str, Any]) -> None:
    flower = services["flower"]
    assert flower["secrets"] == ["flower_password"]
    command = interpolate(flower["command"][0])
    assert 'FLOWER_BASIC_AUTH="admin:$(cat /run/secrets/flower_password)"' in command
    assert "exec celery" in command and "flower" in command


def test_the_cpu_override_runs_triton_from_semantiks_image_without_a_gpu() -> None:
    triton = load("docker-compose.cpu.yml")["services"]["triton"]
    assert triton["command"] == ["triton"]
    assert triton["build"] == {"context": ".", "target": "runtime"}
    # !override replaces the whole deploy section, so the base file's GPU reservation is gone.
    assert isinstance(triton["deploy"], Override)
    assert "reservations" not in triton["deploy"]["resources"]
    assert interpolate(triton["deploy"]["resources"]["limits"]) == {"cpus": "4", "memory": "4g"}
    assert "./models:/models:ro" in triton["volumes"]


def test_the_entrypoint_commands_exist(services: dict[str, Any]) -> None:
    """What each container runs resolves to a real `semantik` or `celery` command line."""
    entrypoint = (ROOT / "scripts" / "docker-entrypoint.sh").read_text()
    for command in {tuple(services[name]["command"]) for name in APP} | {("triton",), ("models",)}:
        assert f"\n{command[0]})\n" in entrypoint, command
    for subcommand in ("serve", "triton"):
        result = subprocess.run(
            [sys.executable, "-m", "semantik.cli", subcommand, "--help"],
            env={**os.environ, "PYTHONPATH": str(ROOT / "backend")},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr


def test_the_multihost_override_points_workers_at_shared_services() -> None:
    data = load("docker-compose.multihost.yml")
    worker = data["services"]["worker"]
    environment = interpolate(worker["environment"], {"MAIN_HOST": "10.0.0.10"})
    assert environment["DATABASE_URL"] == "postgresql://semantik@10.0.0.10:5432/semantik"
    assert environment["REDIS_URL"] == "redis://10.0.0.10:6379/0"
    assert environment["QDRANT_URL"] == "http://10.0.0.10:6333"
    assert environment["TRITON_URL"] == "10.0.0.10:8001"
    # Several Triton servers: a list, used in turn by the clients.
    several = interpolate(worker["environment"], {"MAIN_HOST": "h", "TRITON_URL": "gpu1:8001,gpu2:8001"})
    assert several["TRITON_URL"] == "gpu1:8001,gpu2:8001"
    assert isinstance(worker["depends_on"], Reset) and not worker["depends_on"]
    # Periodic jobs run once, on the main host: a worker host's beat is in no profile it starts.
    assert isinstance(data["services"]["beat"]["profiles"], OverrideList)
    assert data["services"]["beat"]["profiles"] == ["never"]
    with pytest.raises(KeyError, match="MAIN_HOST"):
        interpolate(worker["environment"])
