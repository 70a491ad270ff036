/** Where the session's JWT pair lives: memory, mirrored to localStorage so tabs and reloads share it. */
import type { TokenPair } from "./types";

const STORAGE_KEY = "semantik.tokens";

type Listener = () => void;

export class TokenStore {
  private pair: TokenPair | null;
  private readonly listeners = new Set<Listener>();
  private readonly storage: Storage | null;
  /** False once storage refuses a write (private mode, quota): from then on memory is the truth. */
  private persistent: boolean;

  constructor(storage: Storage | null = typeof localStorage === "undefined" ? null : localStorage) {
    this.storage = storage;
    this.persistent = storage !== null;
    this.pair = this.read();
    if (typeof window !== "undefined") {
      // Another tab logged in, out, or rotated the pair: follow it.
      window.addEventListener("storage", (event) => {
        if (event.key === STORAGE_KEY) this.reload();
      });
    }
  }

  get(): TokenPair | null {
    return this.pair;
  }

  set(pair: TokenPair | null): void {
    this.pair = pair;
    try {
      if (pair) this.storage?.setItem(STORAGE_KEY, JSON.stringify(pair));
      else this.storage?.removeItem(STORAGE_KEY);
    } catch {
      // Storage full or disabled: the session lives in this tab's memory only.
      this.persistent = false;
    }
    this.emit();
  }

  /** Re-reads storage, where another tab may have put a newer pair. */
  reload(): TokenPair | null {
    if (!this.persistent) return this.pair;
    const stored = this.read();
    if (stored?.refresh !== this.pair?.refresh || stored?.access !== this.pair?.access) {
      this.pair = stored;
      this.emit();
    }
    return this.pair;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  private read(): TokenPair | null {
    try {
      const raw = this.storage?.getItem(STORAGE_KEY);
      if (!raw) return null;
      const parsed = JSON.parse(raw) as Partial<TokenPair>;
      return typeof parsed.access === "string" && typeof parsed.refresh === "string"
        ? { access: parsed.access, refresh: parsed.refresh }
        : null;
    } catch {
      return null;
    }
  }
}

/** The `exp` claim of a JWT in milliseconds, or null when it cannot be read. */
export function tokenExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}
