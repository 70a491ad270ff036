/** A WebSocket stand-in the test drives: open it, push messages, close it with a code. */
import type { SocketLike } from "../../src/live/socket";

export class FakeSocket implements SocketLike {
  static instances: FakeSocket[] = [];
  /** Answer {"type":"ping"} with a pong, as the server does. */
  static answerPings = true;
  readyState = 0;
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  readonly sent: unknown[] = [];
  closedWith: number | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.instances.push(this);
  }

  static get last(): FakeSocket {
    const socket = FakeSocket.instances[FakeSocket.instances.length - 1];
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  send(data: string): void {
    const message = JSON.parse(data) as { type?: string };
    this.sent.push(message);
    if (message.type === "ping" && FakeSocket.answerPings) {
      queueMicrotask(() => this.receive({ type: "pong", ts: new Date().toISOString(), data: {} }));
    }
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  /** The server accepted the handshake. */
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  receive(message: unknown): void {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(message) }));
  }

  /** The connection ended from the server's side (or the network's). */
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code }));
  }
}
