// The object route handlers and middleware get: the public WSConnection interface and nothing else.
import type { SendResult, WSCloseHandler, WSConnection, WSMessageHandler } from '../types.js';
import type { Connection } from './connection.js';
import type { ReadyState } from './lifecycle.js';
import { toBuffer } from './send-queue.js';
import { plainBody } from '../recovery/wire.js';

let unwrap: (socket: object) => Connection | undefined;

/**
 * A thin facade: its only state is a private (#) reference to the internal connection, so decoder
 * callbacks, counters, heartbeat state and the transport are out of a handler's reach. Handlers may add
 * their own properties to it (`socket.user = ...`), as the spec's examples do.
 */
export class ServerSocket implements WSConnection {
  readonly #c: Connection;

  static {
    unwrap = socket => (#c in socket ? socket.#c : undefined);
  }

  constructor(connection: Connection) {
    this.#c = connection;
  }

  send(data: string | Buffer | ArrayBufferView | ArrayBuffer): SendResult {
    const c = this.#c;
    if (!c.wrapsSends) return c.queue.send(data);
    // A nextrush.v1 peer reads every data frame as `header \n body`: a direct send has no header.
    const text = typeof data === 'string';
    return c.queue.sendAs(text, plainBody(text ? data : toBuffer(data)));
  }

  close(code?: number, reason?: string): void {
    this.#c.close(code, reason);
  }

  terminate(): void {
    this.#c.terminate();
  }

  ping(data?: string | Buffer): void {
    this.#c.ping(data);
  }

  onMessage(handler: WSMessageHandler): void {
    this.#c.onMessage(handler);
  }

  onClose(handler: WSCloseHandler): void {
    this.#c.onClose(handler);
  }

  onDrain(handler: () => void): void {
    this.#c.onDrain(handler);
  }

  join(room: string): void {
    this.#c.join(room);
  }

  leave(room: string): void {
    this.#c.leave(room);
  }

  get readyState(): ReadyState {
    return this.#c.state;
  }

  get url(): string {
    return this.#c.url;
  }

  get rooms(): Set<string> {
    return this.#c.rooms;
  }

  get params(): Record<string, string> {
    return this.#c.params;
  }

  get protocol(): string {
    return this.#c.protocol;
  }

  get extensions(): string {
    return this.#c.extensions;
  }

  get bufferedAmount(): number {
    return this.#c.queue.bufferedAmount;
  }

  get remoteAddress(): string {
    return this.#c.remoteAddress;
  }

  get httpVersion(): '1.1' | '2.0' {
    return this.#c.httpVersion;
  }
}

/** The connection behind a socket handed out by this plugin, or undefined for any other object. */
export function connectionOf(socket: unknown): Connection | undefined {
  return typeof socket === 'object' && socket !== null ? unwrap(socket) : undefined;
}
