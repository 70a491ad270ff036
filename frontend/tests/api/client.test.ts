import { describe, expect, it, vi } from "vitest";

import { ApiClient } from "../../src/api/client";
import { ApiError } from "../../src/api/errors";
import { TokenStore } from "../../src/api/tokens";
import { apiError, fakeServer, jwt, reply } from "../helpers/api";

function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
}

function setup(routes: Parameters<typeof fakeServer>[0], pair = { access: jwt(900), refresh: "refresh-1" }) {
  const storage = memoryStorage();
  const tokens = new TokenStore(storage);
  tokens.set(pair);
  const server = fakeServer(routes);
  const onSessionEnded = vi.fn();
  const client = new ApiClient({ tokens, fetch: server.fetch, onSessionEnded });
  return { client, tokens, server, storage, onSessionEnded };
}

/** A server whose access tokens are those it issued last; refresh tokens rotate and are single-use. */
function rotatingServer() {
  let valid = new Set<string>();
  let refreshes = 0;
  const live = new Set(["refresh-1"]);
  return {
    routes: {
      "POST /api/auth/refresh": ({ body }: { body: unknown }) => {
        const { refresh } = body as { refresh: string };
        if (!live.delete(refresh)) return apiError(401, "token_not_valid", "Token is blacklisted");
        refreshes += 1;
        const pair = { access: jwt(900), refresh: `refresh-${refreshes + 1}` };
        live.add(pair.refresh);
        valid = new Set([pair.access]);
        return pair;
      },
      "GET /api/v2/collections": ({ headers }: { headers: Record<string, string> }) =>
        valid.has((headers.Authorization ?? "").replace("Bearer ", ""))
          ? { results: [] }
          : apiError(401, "token_not_valid", "Given token not valid for any token type"),
    },
    refreshes: () => refreshes,
  };
}

describe("ApiClient", () => {
  it("sends the access token and reads JSON", async () => {
    const { client, tokens, server } = setup({ "GET /api/auth/me": () => ({ username: "ada" }) });
    await expect(client.get("/api/auth/me")).resolves.toEqual({ username: "ada" });
    expect(server.requests[0]?.headers.Authorization).toBe(`Bearer ${tokens.get()?.access}`);
  });

  it("refreshes once after a 401, keeps the rotated refresh token and retries the request", async () => {
    const backend = rotatingServer();
    const { client, tokens, server, storage } = setup(backend.routes);
    await expect(client.get("/api/v2/collections")).resolves.toEqual({ results: [] });
    expect(backend.refreshes()).toBe(1);
    expect(server.calls("POST /api/auth/refresh")[0]?.body).toEqual({ refresh: "refresh-1" });
    expect(tokens.get()?.refresh).toBe("refresh-2");
    // Persisted, so a reload (or another tab) uses the new one, not the revoked one.
    expect((JSON.parse(storage.getItem("semantik.tokens") ?? "{}") as { refresh: string }).refresh).toBe("refresh-2");

    // The next expiry spends refresh-2, not the revoked refresh-1.
    tokens.set({ access: "stale", refresh: tokens.get()?.refresh ?? "" });
    await client.get("/api/v2/collections");
    expect(server.calls("POST /api/auth/refresh")[1]?.body).toEqual({ refresh: "refresh-2" });
    expect(tokens.get()?.refresh).toBe("refresh-3");
  });

  it("shares one refresh between requests that fail at the same time", async () => {
    const backend = rotatingServer();
    const { client, onSessionEnded } = setup(backend.routes);
    const results = await Promise.all([1, 2, 3, 4].map(() => client.get("/api/v2/collections")));
    expect(results).toHaveLength(4);
    expect(backend.refreshes()).toBe(1);
    expect(onSessionEnded).not.toHaveBeenCalled();
  });

  it("renews an access token that is about to expire before sending", async () => {
    const backend = rotatingServer();
    const { client, server } = setup(backend.routes, { access: jwt(10), refresh: "refresh-1" });
    await client.get("/api/v2/collections");
    expect(server.requests.map((r) => r.path)).toEqual(["/api/auth/refresh", "/api/v2/collections"]);
  });

  it("uses the pair another tab already rotated instead of spending a revoked refresh token", async () => {
    const backend = rotatingServer();
    const { client, storage, server } = setup(backend.routes);
    // Another tab refreshed: the server revoked refresh-1 and storage holds the new pair.
    const other = new ApiClient({ tokens: new TokenStore(storage), fetch: server.fetch });
    await other.refresh();
    const before = server.calls("POST /api/auth/refresh").length;
    await expect(client.get("/api/v2/collections")).resolves.toEqual({ results: [] });
    expect(server.calls("POST /api/auth/refresh")).toHaveLength(before);
  });

  it("ends the session when the refresh token is refused", async () => {
    const { client, tokens, onSessionEnded } = setup({
      "GET /api/v2/collections": () => apiError(401, "token_not_valid", "Token is invalid or expired"),
      "POST /api/auth/refresh": () => apiError(401, "token_not_valid", "Token is blacklisted"),
    });
    const error = await client.get("/api/v2/collections").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    expect(tokens.get()).toBeNull();
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
  });

  it("turns the error shape into an ApiError with its code, message and details", async () => {
    const { client } = setup({
      "POST /api/v2/collections": () =>
        apiError(400, "invalid", "chunk_size: Ensure this value is greater than or equal to 16.", {
          chunk_size: ["Ensure this value is greater than or equal to 16."],
        }),
    });
    const error = (await client.post("/api/v2/collections", { chunk_size: 2 }).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid");
    expect(error.details).toEqual({ chunk_size: ["Ensure this value is greater than or equal to 16."] });
  });

  it("reads Retry-After from a 429 and says when to try again", async () => {
    const { client } = setup({
      "POST /api/v2/search": () =>
        reply(429, { error: { code: "throttled", message: "Request was throttled." } }, { "Retry-After": "12" }),
    });
    const error = (await client.post("/api/v2/search", {}).catch((e: unknown) => e)) as ApiError;
    expect(error.retryAfter).toBe(12);
    expect(error.message).toContain("12 s");
  });

  it("gives errors that are not the API's shape (a proxy's page) a code from the status", async () => {
    const fetchImpl = vi.fn(async () => new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    const tokens = new TokenStore(memoryStorage());
    const client = new ApiClient({ tokens, fetch: fetchImpl });
    const error = (await client.get("/api/v2/collections").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("http_502");
    expect(error.message).toBe("Bad Gateway");
  });

  it("reports a server it cannot reach as a network error", async () => {
    const fetchImpl = vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    });
    const client = new ApiClient({ tokens: new TokenStore(memoryStorage()), fetch: fetchImpl });
    const error = (await client.get("/api/v2/collections").catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe("network_error");
    expect(error.status).toBe(0);
  });

  it("logs in without credentials, stores the pair, and logs out by revoking the refresh token", async () => {
    const pair = { access: jwt(900), refresh: "fresh" };
    const { client, tokens, server } = setup({
      "POST /api/auth/login": () => pair,
      "POST /api/auth/logout": () => reply(204),
    });
    tokens.set(null);
    await client.login("ada", "secret");
    expect(server.requests[0]?.headers.Authorization).toBeUndefined();
    expect(tokens.get()).toEqual(pair);
    await client.logout();
    expect(server.calls("POST /api/auth/logout")[0]?.body).toEqual({ refresh: "fresh" });
    expect(tokens.get()).toBeNull();
  });

  it("sends list query values as repeated parameters and leaves empty ones out", async () => {
    const { client, server } = setup({ "GET /api/v2/operations": () => ({ results: [] }) });
    await client.get("/api/v2/operations", { status: "", collection: undefined, page: 2, ids: ["a", "b"] });
    expect(server.requests[0]?.query.toString()).toBe("page=2&ids=a&ids=b");
  });
});

describe("TokenStore", () => {
  it("keeps the session in memory when storage is unavailable", async () => {
    const backend = rotatingServer();
    const tokens = new TokenStore(null);
    tokens.set({ access: jwt(900), refresh: "refresh-1" });
    const server = fakeServer(backend.routes);
    const client = new ApiClient({ tokens, fetch: server.fetch });
    await client.refresh();
    expect(tokens.get()?.refresh).toBe("refresh-2");
  });

  it("keeps the session in memory when storage refuses writes", () => {
    const storage = memoryStorage();
    storage.setItem = () => {
      throw new DOMException("quota", "QuotaExceededError");
    };
    const tokens = new TokenStore(storage);
    tokens.set({ access: "a", refresh: "r" });
    expect(tokens.reload()).toEqual({ access: "a", refresh: "r" });
  });
});
