/**
 * The typed fetch client: JSON in and out, the access token on every request, and one refresh at a
 * time when it expires. Refresh tokens rotate (each refresh revokes the one it was given), so the
 * new pair is always kept, concurrent requests share one refresh, and tabs coordinate through the
 * shared storage (and a Web Lock where the browser has them) instead of spending the same token twice.
 */
import { ApiError, NETWORK_ERROR, errorFromResponse } from "./errors";
import { TokenStore, tokenExpiry } from "./tokens";
import type { TokenPair } from "./types";

export type QueryValue = string | number | boolean | null | undefined | readonly string[];

export interface RequestOptions {
  body?: unknown;
  /** A multipart body (uploads); sent as is. */
  form?: FormData;
  query?: Record<string, QueryValue>;
  signal?: AbortSignal;
  /** false: send no credentials and never refresh (login, register, refresh itself). */
  auth?: boolean;
}

export interface ApiClientOptions {
  tokens: TokenStore;
  baseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Called once when the session cannot be renewed (refresh token expired or revoked). */
  onSessionEnded?: () => void;
}

/** Access tokens this close to expiry are renewed before the request rather than after a 401. */
const EXPIRY_MARGIN_MS = 30_000;

export class ApiClient {
  readonly tokens: TokenStore;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly onSessionEnded: (() => void) | undefined;
  private refreshing: Promise<TokenPair> | null = null;

  constructor(options: ApiClientOptions) {
    this.tokens = options.tokens;
    this.baseUrl = options.baseUrl ?? "";
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.onSessionEnded = options.onSessionEnded;
  }

  get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", path, { query, signal });
  }

  post<T>(path: string, body?: unknown, options: Omit<RequestOptions, "body"> = {}): Promise<T> {
    return this.request<T>("POST", path, { ...options, body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, { body });
  }

  delete<T = void>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const auth = options.auth ?? true;
    const access = auth ? await this.accessToken() : null;
    let response = await this.send(method, path, options, access);
    if (response.status === 401 && auth && this.tokens.get()) {
      // Expired early, revoked by a password change, or rotated by another tab: renew once and retry.
      const renewed = await this.refreshAfterRejection(access);
      response = await this.send(method, path, options, renewed.access);
      if (response.status === 401) this.endSession();
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    const type = response.headers.get("Content-Type") ?? "";
    return (type.includes("json") ? await response.json() : await response.text()) as T;
  }

  /** A fetch with credentials that returns the raw response (files: /documents/{id}/content). */
  async fetchRaw(path: string, signal?: AbortSignal): Promise<Response> {
    const access = await this.accessToken();
    let response = await this.send("GET", path, { signal }, access);
    if (response.status === 401 && this.tokens.get()) {
      const renewed = await this.refreshAfterRejection(access);
      response = await this.send("GET", path, { signal }, renewed.access);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  /** An access token valid for at least EXPIRY_MARGIN_MS, renewed first if needed; null when logged out. */
  async accessToken(): Promise<string | null> {
    const pair = this.tokens.get();
    if (!pair) return null;
    const expiry = tokenExpiry(pair.access);
    if (expiry !== null && expiry - this.now() < EXPIRY_MARGIN_MS) {
      return (await this.refresh()).access;
    }
    return pair.access;
  }

  async login(username: string, password: string): Promise<TokenPair> {
    const pair = await this.request<TokenPair>("POST", "/api/auth/login", {
      body: { username, password },
      auth: false,
    });
    this.tokens.set(pair);
    return pair;
  }

  /** Revokes the refresh token on the server (best effort) and forgets the pair. */
  async logout(): Promise<void> {
    const pair = this.tokens.get();
    this.tokens.set(null);
    if (!pair) return;
    try {
      await this.request("POST", "/api/auth/logout", { body: { refresh: pair.refresh }, auth: false });
    } catch {
      // Already expired or the server is away: the token dies on its own.
    }
  }

  /** Exchanges the refresh token for a new pair; concurrent callers share one exchange. */
  refresh(): Promise<TokenPair> {
    this.refreshing ??= this.withRefreshLock(() => this.exchange()).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** After a 401 sent with `rejectedAccess`: a newer pair if someone already renewed it, else a refresh. */
  private refreshAfterRejection(rejectedAccess: string | null): Promise<TokenPair> {
    const current = this.tokens.reload();
    if (current && current.access !== rejectedAccess && !this.refreshing) return Promise.resolve(current);
    return this.refresh();
  }

  private async exchange(): Promise<TokenPair> {
    const before = this.tokens.get();
    // Another tab may have rotated the pair while this one waited for the lock.
    const current = this.tokens.reload();
    if (!current) throw this.endSession();
    if (before && current.refresh !== before.refresh && !this.expiresSoon(current.access)) return current;
    let response: Response;
    try {
      response = await this.send("POST", "/api/auth/refresh", { body: { refresh: current.refresh } }, null);
    } catch (error) {
      throw error instanceof ApiError ? error : networkError(error);
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      // The refresh token is expired, revoked or rotated away: this session is over.
      if (response.status === 401 || response.status === 400) this.endSession();
      throw error;
    }
    const pair = (await response.json()) as TokenPair;
    this.tokens.set({ access: pair.access, refresh: pair.refresh });
    return pair;
  }

  private expiresSoon(access: string): boolean {
    const expiry = tokenExpiry(access);
    return expiry !== null && expiry - this.now() < EXPIRY_MARGIN_MS;
  }

  private async withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
    const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
    if (!locks) return task();
    return locks.request("semantik-token-refresh", task);
  }

  private endSession(): ApiError {
    const hadSession = this.tokens.get() !== null;
    this.tokens.set(null);
    if (hadSession) this.onSessionEnded?.();
    return new ApiError(401, { code: "not_authenticated", message: "Your session has ended. Log in again." });
  }

  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    access: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    let body: BodyInit | undefined;
    if (options.form) body = options.form;
    else if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    if (access) headers.Authorization = `Bearer ${access}`;
    try {
      return await this.fetchImpl(this.url(path, options.query), {
        method,
        headers,
        body,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw networkError(error);
    }
  }

  private url(path: string, query?: Record<string, QueryValue>): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null || value === "") continue;
      if (Array.isArray(value)) for (const item of value as readonly string[]) params.append(key, item);
      else params.append(key, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ""}`;
  }
}

function networkError(error: unknown): ApiError {
  const detail = error instanceof Error ? ` (${error.message})` : "";
  return new ApiError(0, { code: NETWORK_ERROR, message: `Cannot reach the server${detail}.` });
}
