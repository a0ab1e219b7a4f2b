/**
 * A socket the browser chat client (gateway/web/src/shared/chat-client.ts) can be handed
 * instead of a WebSocket: records what the client sends, and lets a test open it, push
 * server frames and drop it.
 */
import type { ServerFrame, SocketLike } from '../../gateway/web/src/shared/chat-client.js';

export class FakeSocket implements SocketLike {
  protocol = 'junction.v1';
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  closed = false;

  /** `readyState`: 0 connecting (open it with {@link open}), 1 open. */
  constructor(public readyState = 0) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}
