import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { CLOSE_UNAUTHENTICATED, LiveSocket, backoffDelay, type LiveEvent, type SocketStatus } from "../../src/live/socket";
import { FakeSocket } from "../helpers/fakeSocket";

function setup(overrides: Partial<ConstructorParameters<typeof LiveSocket>[0]> = {}) {
  const events: LiveEvent[] = [];
  const statuses: SocketStatus[] = [];
  let token = "token-1";
  const renewToken = vi.fn(async () => {
    token = `token-${Number(token.split("-")[1]) + 1}`;
    return true;
  });
  const socket = new LiveSocket({
    url: "ws://localhost/api/v2/ws",
    getToken: async () => token,
    renewToken,
    onEvent: (event) => events.push(event),
    onStatus: (status) => statuses.push(status),
    createSocket: (url, protocols) => new FakeSocket(url, protocols),
    random: () => 0.5, // no jitter: delays are exact
    ...overrides,
  });
  return { socket, events, statuses, renewToken };
}

/** Lets the socket's async connect (it awaits the token) run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("LiveSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.instances = [];
  });
  afterEach(() => vi.useRealTimers());

  it("offers the access token as the subprotocols bearer, token (never in the URL)", async () => {
    const { socket } = setup();
    socket.start();
    await settle();
    expect(FakeSocket.last.protocols).toEqual(["bearer", "token-1"]);
    expect(FakeSocket.last.url).toBe("ws://localhost/api/v2/ws");
    socket.stop();
  });

  it("passes events on, and keeps pongs to itself", async () => {
    const { socket, events, statuses } = setup();
    socket.start();
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.receive({ type: "snapshot", ts: "t", data: { operations: [] } });
    FakeSocket.last.receive({ type: "pong", ts: "t", data: {} });
    expect(events.map((e) => e.type)).toEqual(["snapshot"]);
    expect(statuses).toEqual(["connecting", "open"]);
    socket.stop();
  });

  it("reconnects with exponential back-off, capped", async () => {
    const { socket } = setup({ backoff: { initialMs: 1000, factor: 2, maxMs: 8000 } });
    socket.start();
    await settle();
    const waits: number[] = [];
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const count = FakeSocket.instances.length;
      FakeSocket.last.drop();
      // Not a moment before the delay...
      let waited = 0;
      while (FakeSocket.instances.length === count) {
        await vi.advanceTimersByTimeAsync(250);
        waited += 250;
      }
      waits.push(waited);
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
    socket.stop();
  });

  it("starts the back-off over once a connection works", async () => {
    const { socket } = setup();
    socket.start();
    await settle();
    FakeSocket.last.drop();
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last.drop();
    await vi.advanceTimersByTimeAsync(2000);
    expect(socket.failures).toBe(2);
    FakeSocket.last.open();
    FakeSocket.last.receive({ type: "snapshot", ts: "t", data: { operations: [] } });
    expect(socket.failures).toBe(0);
    const count = FakeSocket.instances.length;
    FakeSocket.last.drop();
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.instances).toHaveLength(count);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(count + 1);
    socket.stop();
  });

  it("spreads reconnects with jitter", () => {
    const options = { initialMs: 1000, factor: 2, maxMs: 30_000, jitter: 0.2 };
    expect(backoffDelay(1, options, () => 0)).toBe(1600);
    expect(backoffDelay(1, options, () => 1)).toBe(2400);
  });

  it("renews the token after a 4401 close and reconnects with the new one", async () => {
    const { socket, renewToken } = setup();
    socket.start();
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.drop(CLOSE_UNAUTHENTICATED);
    await settle();
    expect(renewToken).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.last.protocols).toEqual(["bearer", "token-2"]);
    socket.stop();
  });

  it("goes offline for good when the session cannot be renewed", async () => {
    const { socket, statuses } = setup({ renewToken: async () => false });
    socket.start();
    await settle();
    FakeSocket.last.drop(CLOSE_UNAUTHENTICATED);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(statuses[statuses.length - 1]).toBe("offline");
  });

  it("does not reconnect after stop()", async () => {
    const { socket } = setup();
    socket.start();
    await settle();
    const first = FakeSocket.last;
    first.open();
    socket.stop();
    expect(first.closedWith).toBe(1000);
    first.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("subscribes on every (re)connect and when the collections change", async () => {
    const { socket } = setup();
    socket.setSubscriptions(["a", "b"]);
    socket.start();
    await settle();
    FakeSocket.last.open();
    expect(FakeSocket.last.sent).toEqual([{ type: "subscribe", collections: ["a", "b"] }]);
    socket.setSubscriptions(["b", "c"]);
    expect(FakeSocket.last.sent.slice(1)).toEqual([
      { type: "subscribe", collections: ["c"] },
      { type: "unsubscribe", collections: ["a"] },
    ]);
    FakeSocket.last.drop();
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last.open();
    expect(FakeSocket.last.sent).toEqual([{ type: "subscribe", collections: ["b", "c"] }]);
    socket.stop();
  });

  it("treats a connection that stops answering pings as dead and reconnects", async () => {
    FakeSocket.answerPings = false;
    const { socket } = setup({ pingIntervalMs: 1000, pongTimeoutMs: 500 });
    socket.start();
    await settle();
    const first = FakeSocket.last;
    first.open();
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.sent).toEqual([{ type: "ping" }]);
    await vi.advanceTimersByTimeAsync(500);
    expect(first.closedWith).toBe(4000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances).toHaveLength(2);
    socket.stop();
  });

  it("keeps a connection that answers its pings", async () => {
    const { socket } = setup({ pingIntervalMs: 1000, pongTimeoutMs: 500 });
    socket.start();
    await settle();
    FakeSocket.last.open();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.last.sent).toHaveLength(10);
    expect(FakeSocket.instances).toHaveLength(1);
    socket.stop();
  });

  it("stays offline without a session", async () => {
    const { socket, statuses } = setup({ getToken: async () => null });
    socket.start();
    await settle();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(statuses).toEqual(["connecting", "offline"]);
  });
});
