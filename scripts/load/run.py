"""Load test on loopback: many users searching while an indexing operation runs and WebSocket listeners
follow it. Prints one JSON line on stdout (progress on stderr) and writes it to --out.

    make test-load    # or: .venv/bin/python scripts/load/run.py [--users 20] [--clients 12] [--duration 60]

What it does. Starts the real stack the way `make run` does (`semantik run` on a free port, with its
embedded PostgreSQL, Valkey, Triton and Qdrant in a fresh data directory), registers `--users` users
through the API, and gives each a collection with a few uploaded files of its own (indexed before the
load starts). One more user, the indexer, owns a collection shared with `--viewers` of them as
viewers. Then, for `--duration` seconds, `--clients` concurrent clients send requests as users chosen
at random: searches (semantic, keyword and hybrid, over the user's own collection and, for viewers,
the shared one), collection lists and document lists. A few seconds in, the indexer adds a folder
of `--files` generated files: an `index` operation runs under the load while `--listeners` WebSocket
listeners (sockets of the indexer and of the viewers) follow it.

What it records. Per endpoint: requests, errors (anything but the expected status), p50 and p99
latency. For the events: each listener must receive the operation's events in order, ending with
`operation.completed`: one `document.processed`/`document.failed` per file the operation counted,
never a file twice, progress counters that never go back, and the same sequence as every other
listener. `events_lost` counts what a listener missed against that.

Rate limits are off in the served stack (THROTTLE_*=none): the test measures serving, not the limiter
(20 users registering from one address would meet the registration limit at once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "load-test-password-1"
MODES = ("semantic", "keyword", "hybrid")
# A small vocabulary of real words, so generated text embeds and matches like prose does.
TOPICS = {
    "garden": "tomatoes basil soil compost watering pruning roses seedlings mulch harvest",
    "sea": "lighthouse keeper tide harbour sailing storm wick lantern gulls coast",
    "kitchen": "bread dough oven yeast flour butter recipe simmer sauce knead",
    "code": "function variable compiler python module import exception thread socket cache",
    "music": "violin orchestra melody rhythm chord symphony tempo rehearsal conductor score",
    "travel": "train station ticket luggage mountain village museum map passport hostel",
}
QUERIES = [
    "how do I prune roses",
    "lighthouse keeper trims the wick",
    "knead the bread dough",
    "python exception in a thread",
    "orchestra rehearsal tempo",
    "train ticket to the mountain village",
    "compost and mulch for seedlings",
    "storm over the harbour",
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def paragraph(rng: random.Random, topic: str, sentences: int = 6) -> str:
    words = TOPICS[topic].split()
    out = []
    for _ in range(sentences):
        picked = [rng.choice(words) for _ in range(rng.randint(8, 14))]
        out.append(" ".join(picked).capitalize() + ".")
    return " ".join(out)


def write_corpus(folder: Path, files: int, seed: int) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        topic = rng.choice(list(TOPICS))
        body = "\n\n".join(paragraph(rng, topic) for _ in range(rng.randint(2, 5)))
        (folder / f"{topic}-{i:04d}.md").write_text(f"# {topic.title()} note {i}\n\n{body}\n")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


@dataclass
class User:
    name: str
    token: str
    collection_id: str
    readable: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)

    def record(self, endpoint: str, seconds: float, status: int | None, ok: bool) -> None:
        self.latencies.setdefault(endpoint, []).append(seconds * 1000)
        self.errors.setdefault(endpoint, 0)
        if not ok:
            self.errors[endpoint] += 1
        by_status = self.statuses.setdefault(endpoint, {})
        by_status[status or 0] = by_status.get(status or 0, 0) + 1

    def report(self) -> dict[str, Any]:
        endpoints = {}
        for name, values in sorted(self.latencies.items()):
            endpoints[name] = {
                "requests": len(values),
                "errors": self.errors[name],
                "p50_ms": round(percentile(values, 50), 1),
                "p99_ms": round(percentile(values, 99), 1),
                "statuses": {str(k): v for k, v in sorted(self.statuses[name].items())},
            }
        every = [v for values in self.latencies.values() for v in values]
        errors = sum(self.errors.values())
        return {
            "requests": len(every),
            "errors": errors,
            "error_rate": round(errors / len(every), 5) if every else None,
            "p50_ms": round(percentile(every, 50), 1) if every else None,
            "p99_ms": round(percentile(every, 99), 1) if every else None,
            "endpoints": endpoints,
        }


class Listener:
    """One WebSocket of a user, recording every event about the watched operation."""

    def __init__(self, name: str, ws_url: str, token: str) -> None:
        self.name = name
        self.ws_url = ws_url
        self.token = token
        self.events: list[dict[str, Any]] = []
        self.ready = asyncio.Event()
        self.closed_early: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            async with websockets.connect(
                f"{self.ws_url}/api/v2/ws",
                subprotocols=["bearer", self.token],
                max_size=2**22,  # type: ignore[list-item]
            ) as socket:
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(socket.recv(), timeout=0.5)
                    except TimeoutError:
                        continue
                    event = json.loads(raw)
                    if event["type"] == "snapshot":
                        self.ready.set()
                    self.events.append(event)
        except Exception as exc:  # noqa: BLE001 - a listener that dies is a finding, reported in the JSON
            self.closed_early = f"{exc.__class__.__name__}: {exc}"
            self.ready.set()

    def of(self, operation_id: str) -> list[dict[str, Any]]:
        mine = []
        for event in self.events:
            data = event.get("data", {})
            # Operation events carry the operation as `id`, document events as `operation_id`.
            key = "id" if event["type"].startswith("operation.") else "operation_id"
            if event["type"].startswith(("operation.", "document.")) and data.get(key) == operation_id:
                mine.append(event)
        return mine


def check_events(listeners: list[Listener], operation_id: str, final: dict[str, Any]) -> dict[str, Any]:
    """What each listener received of the operation against what it emitted (its final counters)."""
    expected_documents = final["files_processed"] + final["files_failed"]
    per_listener = []
    lost = 0
    sequences = []
    for listener in listeners:
        events = listener.of(operation_id)
        documents = [e["data"]["document_id"] for e in events if e["type"].startswith("document.")]
        duplicates = len(documents) - len(set(documents))
        missing_documents = max(0, expected_documents - len(set(documents)))
        ends_completed = bool(events) and events[-1]["type"] == "operation.completed"
        done = [
            e["data"]["files_processed"] + e["data"]["files_skipped"] + e["data"]["files_failed"]
            for e in events
            if e["type"].startswith("operation.")
        ]
        monotonic = all(a <= b for a, b in zip(done, done[1:], strict=False))
        lost += missing_documents + (0 if ends_completed else 1)
        sequences.append(
            [(e["type"], e["data"].get("document_id") or e["data"].get("files_processed")) for e in events]
        )
        per_listener.append(
            {
                "listener": listener.name,
                "events": len(events),
                "document_events": len(documents),
                "duplicates": duplicates,
                "ends_with_completed": ends_completed,
                "counters_in_order": monotonic,
                "closed_early": listener.closed_early,
            }
        )
    return {
        "operation_events_expected_documents": expected_documents,
        "listeners": per_listener,
        "events_lost": lost,
        "in_order": all(p["counters_in_order"] and p["duplicates"] == 0 for p in per_listener),
        "identical_across_listeners": all(s == sequences[0] for s in sequences),
    }


async def wait_operation(
    http: httpx.AsyncClient, user: User, operation_id: str, deadline_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_s
    while True:
        state: dict[str, Any] = (
            await http.get(f"/api/v2/operations/{operation_id}", headers=user.headers)
        ).json()
        if state["status"] in ("completed", "failed", "cancelled"):
            return state
        if time.monotonic() > deadline:
            raise RuntimeError(f"operation {operation_id} still {state['status']} after {deadline_s} s")
        await asyncio.sleep(0.5)


async def make_user(
    http: httpx.AsyncClient, name: str, rng: random.Random, files: int
) -> tuple[User, str | None]:
    """Register and log in `name`, create a collection and upload `files` files into it."""
    response = await http.post("/api/auth/register", json={"username": name, "password": PASSWORD})
    response.raise_for_status()
    tokens = (await http.post("/api/auth/login", json={"username": name, "password": PASSWORD})).json()
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    created = await http.post("/api/v2/collections", json={"name": f"{name}'s notes"}, headers=headers)
    created.raise_for_status()
    user = User(name, tokens["access"], created.json()["id"])
    user.readable.append(user.collection_id)
    if not files:
        return user, None
    parts = []
    for i in range(files):
        topic = rng.choice(list(TOPICS))
        text = "\n\n".join(paragraph(rng, topic) for _ in range(3))
        parts.append(("files", (f"{topic}-{i}.md", f"# {topic}\n\n{text}\n".encode(), "text/markdown")))
    uploaded = await http.post(
        f"/api/v2/collections/{user.collection_id}/uploads", files=parts, headers=headers
    )
    uploaded.raise_for_status()
    return user, uploaded.json()["operation_id"]


async def client_loop(
    http: httpx.AsyncClient, users: list[User], stats: Stats, stop: asyncio.Event, seed: int
) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        user = rng.choice(users)
        roll = rng.random()
        if roll < 0.7:
            mode = rng.choice(MODES)
            endpoint, method, path = f"POST /api/v2/search ({mode})", "POST", "/api/v2/search"
            body: dict[str, Any] | None = {
                "query": rng.choice(QUERIES),
                "collections": [rng.choice(user.readable)],
                "mode": mode,
                "limit": 10,
            }
        elif roll < 0.85:
            endpoint, method, path, body = "GET /api/v2/collections", "GET", "/api/v2/collections", None
        else:
            endpoint, method, body = "GET /api/v2/collections/{id}/documents", "GET", None
            path = f"/api/v2/collections/{rng.choice(user.readable)}/documents"
        started = time.perf_counter()
        status = None
        try:
            response = await http.request(method, path, json=body, headers=user.headers)
            status = response.status_code
        except httpx.HTTPError:
            pass
        stats.record(endpoint, time.perf_counter() - started, status, status == 200)


async def load(args: argparse.Namespace, url: str, documents: Path) -> dict[str, Any]:
    ws_url = url.replace("http://", "ws://")
    rng = random.Random(args.seed)
    limits = httpx.Limits(max_connections=args.clients + 8, max_keepalive_connections=args.clients + 8)
    async with httpx.AsyncClient(base_url=url, timeout=args.request_timeout, limits=limits) as http:
        log(f"creating {args.users} users, each with a collection of {args.user_files} uploaded files")
        made = [await make_user(http, f"load-user-{i:02d}", rng, args.user_files) for i in range(args.users)]
        users = [user for user, _ in made]
        indexer, _ = await make_user(http, "load-indexer", rng, 0)
        for user, operation_id in made:
            if operation_id:
                state = await wait_operation(http, user, operation_id, args.setup_timeout)
                if state["status"] != "completed":
                    raise RuntimeError(f"{user.name}'s upload ended {state['status']}: {state['error']}")
        viewers = users[: args.viewers]
        for viewer in viewers:
            shared = await http.post(
                f"/api/v2/collections/{indexer.collection_id}/shares",
                json={"username": viewer.name, "role": "viewer"},
                headers=indexer.headers,
            )
            shared.raise_for_status()
            viewer.readable.append(indexer.collection_id)

        folder = documents / "bulk"
        write_corpus(folder, args.files, args.seed)
        owners = [indexer] * max(1, args.listeners - len(viewers))
        listening = (owners + viewers)[: args.listeners]
        listeners = [Listener(f"{user.name}#{i}", ws_url, user.token) for i, user in enumerate(listening)]
        stop_listening = asyncio.Event()
        listener_tasks = [asyncio.create_task(listener.run(stop_listening)) for listener in listeners]
        await asyncio.wait_for(asyncio.gather(*(listener.ready.wait() for listener in listeners)), 30)

        stats = Stats()
        stop = asyncio.Event()
        log(f"load: {args.clients} clients, {args.users} users, {args.duration} s, {len(listeners)} sockets")
        clients = [
            asyncio.create_task(client_loop(http, users, stats, stop, args.seed + i))
            for i in range(args.clients)
        ]
        started = time.monotonic()
        await asyncio.sleep(min(3, args.duration / 10))
        added = await http.post(
            f"/api/v2/collections/{indexer.collection_id}/sources",
            json={"path": str(folder)},
            headers=indexer.headers,
        )
        added.raise_for_status()
        operation_id = added.json()["operation_id"]
        log(f"indexing {args.files} files: operation {operation_id}")
        await asyncio.sleep(max(0.0, args.duration - (time.monotonic() - started)))
        stop.set()
        await asyncio.gather(*clients)
        load_seconds = time.monotonic() - started
        load_ended = datetime.now(UTC)
        final = await wait_operation(http, indexer, operation_id, args.setup_timeout)
        operation_seconds = None
        if final["started_at"] and final["finished_at"]:
            finished = datetime.fromisoformat(final["finished_at"])
            operation_seconds = round(
                (finished - datetime.fromisoformat(final["started_at"])).total_seconds(), 1
            )
        # The completion event leaves the server as the state is saved: give it a moment to arrive.
        for _ in range(20):
            if all(
                listener.of(operation_id) and listener.of(operation_id)[-1]["type"] == "operation.completed"
                for listener in listeners
            ):
                break
            await asyncio.sleep(0.25)
        stop_listening.set()
        await asyncio.gather(*listener_tasks)

    report = stats.report()
    events = check_events(listeners, operation_id, final)
    return {
        "load": "search+index+websocket",
        "duration_s": round(load_seconds, 1),
        "users": args.users,
        "clients": args.clients,
        "listeners": len(listeners),
        **{k: report[k] for k in ("requests", "errors", "error_rate", "p50_ms", "p99_ms")},
        "requests_per_s": round(report["requests"] / load_seconds, 1),
        "events_lost": events["events_lost"],
        "events_in_order": events["in_order"],
        "events_identical_across_listeners": events["identical_across_listeners"],
        "operation": {
            "id": operation_id,
            "status": final["status"],
            "files_total": final["files_total"],
            "files_processed": final["files_processed"],
            "files_failed": final["files_failed"],
            "chunks_written": final["chunks_written"],
            "seconds": operation_seconds,
            # Whether it ran start to end under the load (else the rest ran after the clients stopped).
            "finished_under_load": bool(final["finished_at"])
            and datetime.fromisoformat(final["finished_at"]) <= load_ended,
        },
        "endpoints": report["endpoints"],
        "events": events,
        "rate_limits": "off",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20, help="users, each with a collection of its own")
    parser.add_argument("--clients", type=int, default=12, help="concurrent HTTP clients")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--listeners", type=int, default=6, help="WebSocket listeners following the indexing")
    parser.add_argument("--viewers", type=int, default=3, help="users the indexed collection is shared with")
    parser.add_argument("--files", type=int, default=200, help="files the indexing operation indexes")
    parser.add_argument(
        "--user-files", type=int, default=3, help="files uploaded into each user's collection"
    )
    parser.add_argument(
        "--request-timeout", type=float, default=30.0, help="seconds before a request is an error"
    )
    parser.add_argument("--setup-timeout", type=float, default=600.0, help="seconds an operation may take")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "data" / "load" / "last.json", help="where the JSON goes"
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()

    from semantik.testing.served import semantik_run

    work = Path(tempfile.mkdtemp(prefix="semantik-load-"))
    documents = work / "documents"
    documents.mkdir()
    env = {
        "REGISTRATION_OPEN": "true",
        "SEMANTIK_ADMIN_PASSWORD": PASSWORD,
        **{f"THROTTLE_{name}": "none" for name in ("LOGIN", "REGISTER", "SEARCH", "WRITE", "USER", "ANON")},
    }
    log(f"starting semantik run (data in {work})")
    try:
        with semantik_run(
            work / "data",
            documents,
            work / "run.log",
            env=env,
            ready_timeout_s=300,
            stop_timeout_s=90,
            cwd=ROOT,
        ) as served:
            log(f"semantik run is serving on {served.url}")
            result = asyncio.run(load(args, served.url, documents))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    line = json.dumps(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(line + "\n")
    print(line, flush=True)
    ok = result["errors"] == 0 and result["events_lost"] == 0 and result["events_in_order"]
    sys.exit(0 if ok and result["operation"]["status"] == "completed" else 1)


if __name__ == "__main__":
    main()
