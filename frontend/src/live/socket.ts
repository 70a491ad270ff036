/**
 * The tab's one live-updates WebSocket (/api/v2/ws): the access token offered as subprotocols
 * ["bearer", token], reconnects with exponential back-off and jitter, a renewed token after a 4401
 * close, and a ping that notices a silently dead connection.
 */

export interface LiveEvent<T = unknown> {
  type: string;
  ts: string;
  data: T;
}

/** The part of the browser's WebSocket this class uses, so tests can hand it a fake. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

export type SocketStatus = "connecting" | "open" | "reconnecting" | "offline";

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ±fraction of each delay, so a restarted server is not met by every tab at once. */
  jitter: number;
}

export interface LiveSocketOptions {
  url: string;
  /** The current access token (renewed if close to expiry), or null when logged out. */
  getToken: () => Promise<string | null>;
  /** Renews the session after the server refused the token; false when it cannot be renewed. */
  renewToken: () => Promise<boolean>;
  onEvent: (event: LiveEvent) => void;
  onStatus?: (status: SocketStatus) => void;
  createSocket?: SocketFactory;
  backoff?: Partial<BackoffOptions>;
  random?: () => number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
}

export const CLOSE_UNAUTHENTICATED = 4401;
const OPEN = 1;
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** The delay before reconnect attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** attempt);
  return Math.round(base * (1 + options.jitter * (random() * 2 - 1)));
}

export function liveUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/api/v2/ws`;
}

export class LiveSocket {
  private readonly options: LiveSocketOptions;
  private readonly backoff: BackoffOptions;
  private readonly createSocket: SocketFactory;
  private socket: SocketLike | null = null;
  private attempt = 0;
  private running = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private subscribed = new Set<string>();
  private status: SocketStatus = "offline";

  constructor(options: LiveSocketOptions) {
    this.options = options;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.createSocket = options.createSocket ?? ((url, protocols) => new WebSocket(url, protocols));
  }

  /** The number of failed attempts since the last good connection. */
  get failures(): number {
    return this.attempt;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000, "bye");
    }
    this.setStatus("offline");
  }

  /** Tries now rather than at the end of the back-off (the browser came back online, the tab woke). */
  reconnectNow(): void {
    if (!this.running || this.socket) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.connect();
  }

  /**
   * The collections whose events this tab wants beyond those the server follows by itself (the
   * user's own and those shared with them): public ones. The server answers a `subscribe` with a
   * `snapshot` of their active operations (and an `error` for what the user may not read), an
   * `unsubscribe` with `unsubscribed`; a reconnect subscribes to the whole set again.
   */
  setSubscriptions(collectionIds: Iterable<string>): void {
    const next = new Set(collectionIds);
    const added = [...next].filter((id) => !this.subscribed.has(id));
    const removed = [...this.subscribed].filter((id) => !next.has(id));
    this.subscribed = next;
    if (this.socket?.readyState !== OPEN) return;
    if (added.length > 0) this.send({ type: "subscribe", collections: added });
    if (removed.length > 0) this.send({ type: "unsubscribe", collections: removed });
  }

  private async connect(): Promise<void> {
    this.setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    let token: string | null;
    try {
      token = await this.options.getToken();
    } catch {
      token = null;
    }
    if (!this.running) return;
    if (!token) {
      this.setStatus("offline");
      this.running = false;
      return;
    }
    const socket = this.createSocket(this.options.url, ["bearer", token]);
    this.socket = socket;
    socket.onopen = () => {
      this.setStatus("open");
      if (this.subscribed.size > 0) this.send({ type: "subscribe", collections: [...this.subscribed] });
      this.startPing();
    };
    socket.onmessage = (message) => this.receive(message);
    socket.onclose = (event) => void this.closed(event.code);
  }

  private receive(message: MessageEvent): void {
    let event: LiveEvent;
    try {
      event = JSON.parse(String(message.data)) as LiveEvent;
    } catch {
      return;
    }
    // A message proves the connection works (the server accepted the token): back-off starts over.
    this.attempt = 0;
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
    if (event.type !== "pong") this.options.onEvent(event);
  }

  private async closed(code: number): Promise<void> {
    this.socket = null;
    this.clearTimers();
    if (!this.running) return;
    if (code === CLOSE_UNAUTHENTICATED) {
      let renewed = false;
      try {
        renewed = await this.options.renewToken();
      } catch {
        renewed = false;
      }
      if (!renewed) {
        this.running = false;
        this.setStatus("offline");
        return;
      }
    }
    this.setStatus("reconnecting");
    const delay = backoffDelay(this.attempt, this.backoff, this.options.random);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private startPing(): void {
    const interval = this.options.pingIntervalMs ?? 25_000;
    const timeout = this.options.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      this.send({ type: "ping" });
      this.pongTimer ??= setTimeout(() => {
        // No answer: the connection is dead without a close frame (a sleeping laptop, a proxy).
        this.pongTimer = null;
        const socket = this.socket;
        if (socket) {
          socket.onclose = null;
          socket.close(4000, "no pong");
          void this.closed(4000);
        }
      }, timeout);
    }, interval);
  }

  private send(message: unknown): void {
    if (this.socket?.readyState === OPEN) this.socket.send(JSON.stringify(message));
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
  }

  private setStatus(status: SocketStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.options.onStatus?.(status);
  }
}
