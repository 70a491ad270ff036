"""Schemathesis fuzzes every operation of the OpenAPI description against the real application, as a
logged-in user and as an API key: no answer is a 5xx, and every answer is one the description gives
(its status documented, its body and headers as described)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import World, end_active_operations, fresh_target

# Indexing (the world fixture) writes from threads of its own: they must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

# Examples per operation, per generation mode (valid and invalid input), per credential: with 43
# operations, 43 × 2 × 6 = 516 cases per credential (negative cases of operations without input are
# none). Chosen so both credentials take about 2 minutes; a loaded 2-core machine ran 3.5 cases/s.
# FUZZ_EXAMPLES=100 FUZZ_RANDOM=1 for a long hunt with fresh inputs (the default run is repeatable).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Path parameters that name what a DELETE removes get a throwaway object of their own.
DELETED_BY_PATH = {
    ("DELETE", "/api/v2/collections/{collection_id}"): "collection_id",
    ("DELETE", "/api/auth/keys/{key_id}"): "key_id",
}


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI handler, called in this thread so it shares the test's database transaction.

    Django's own test client does the same: at the end of each request Django would close the
    connection (and with it roll back the test's transaction), so those signal handlers are off.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _fuzz_operation(
    operation: Any, mode: GenerationMode, world: World, credential: str, failures: dict[str, str]
) -> int:
    """Run EXAMPLES cases of one operation in one mode; returns how many ran."""
    ran = 0
    label = f"{operation.method.upper()} {operation.path} ({mode.value})"
    key = (operation.method.upper(), operation.path)

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=os.environ.get("FUZZ_RANDOM") != "1",
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, data: st.DataObject) -> None:
        nonlocal ran
        ran += 1
        for name in list(case.path_parameters or {}):
            if DELETED_BY_PATH.get(key) == name:
                case.path_parameters[name] = fresh_target(world, name)
            elif name in world.ids:
                # Mostly real objects (else nearly every case would be a 404), sometimes what was generated.
                case.path_parameters[name] = data.draw(
                    st.sampled_from([*world.ids[name], case.path_parameters[name]])
                )
        try:
            response = case.call(headers=world.headers(credential))
            case.validate_response(response, checks=CHECKS, headers=world.headers(credential))
        finally:
            end_active_operations()

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid: an operation without parameters or body has no negative cases.
        assert mode == GenerationMode.NEGATIVE and not operation.path_parameters and not operation.body, label
    except FailureGroup as exc:
        failures[label] = str(exc)
    except Exception as exc:  # noqa: BLE001 - one operation's crash is reported with the others
        failures[label] = f"{exc.__class__.__name__}: {exc}"
    return ran


@pytest.mark.timeout(900)
@pytest.mark.parametrize("credential", ["jwt", "api_key"])
def test_every_operation_answers_as_described_and_never_with_a_server_error(  # type: ignore[no-untyped-def]
    world: World, wsgi_app: WSGIHandler, credential: str, capsys
):
    schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    failures: dict[str, str] = {}
    cases: Counter[str] = Counter()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases[mode.value] += _fuzz_operation(operation, mode, world, credential, failures)
    summary = {
        "fuzz": credential,
        "operations": len(operations),
        "examples_per_operation_and_mode": EXAMPLES,
        "cases": sum(cases.values()),
        **{f"cases_{mode}": count for mode, count in cases.items()},
        "failures": len(failures),
    }
    with capsys.disabled():
        print("\n" + json.dumps(summary))
    assert not failures, "\n\n".join(f"== {label}\n{message}" for label, message in failures.items())
    # Every operation really ran its examples (none was skipped as unsatisfiable).
    assert sum(cases.values()) >= len(operations) * 2 * min(EXAMPLES, 2)
