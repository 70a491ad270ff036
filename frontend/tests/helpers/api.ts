/** A fake server for the API client: routes by method and path, records every request. */
import { vi } from "vitest";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export type Reply = { status?: number; body?: unknown; headers?: Record<string, string>; raw?: string };
/** Returns a `reply(...)`, or any other value to answer 200 with it as JSON. */
export type Handler = (request: RecordedRequest) => unknown;

/** A reply with a status; a handler returning anything else answers 200 with it as JSON. */
export const reply = (status: number, body?: unknown, headers?: Record<string, string>): Reply & { __reply: true } => ({
  status,
  body,
  headers,
  __reply: true,
});

/** A reply that is not JSON: a file, with its content type. */
export const fileReply = (raw: string, contentType: string): Reply & { __reply: true } => ({
  status: 200,
  raw,
  headers: { "Content-Type": contentType },
  __reply: true,
});

export const apiError = (status: number, code: string, message: string, details?: unknown) =>
  reply(status, { error: { code, message, ...(details === undefined ? {} : { details }) } });

export function fakeServer(routes: Record<string, Handler>) {
  const requests: RecordedRequest[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input.toString(), "http://localhost");
    const method = (init?.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>));
    let body: unknown = init?.body;
    if (typeof body === "string") body = JSON.parse(body);
    const request: RecordedRequest = { method, path: url.pathname, query: url.searchParams, headers, body };
    requests.push(request);
    const handler = routes[`${method} ${url.pathname}`];
    if (!handler) {
      return json(404, { error: { code: "not_found", message: `No API endpoint at ${url.pathname}` } });
    }
    const result = await handler(request);
    if (isReply(result)) {
      if (result.status === 204) return new Response(null, { status: 204 });
      if (result.raw !== undefined) return new Response(result.raw, { status: result.status ?? 200, headers: result.headers });
      return json(result.status ?? 200, result.body, result.headers);
    }
    return json(200, result);
  });
  return { fetch: fetchImpl as unknown as typeof fetch, requests, calls: (key: string) => requests.filter((r) => `${r.method} ${r.path}` === key) };
}

function isReply(value: unknown): value is Reply {
  return typeof value === "object" && value !== null && "__reply" in value;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** A JWT the client can read the expiry of (the signature is never checked client-side). */
export function jwt(expiresInSeconds: number, now = Date.now()): string {
  const encode = (value: unknown) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ exp: Math.floor(now / 1000) + expiresInSeconds, jti: Math.random() })}.sig`;
}
