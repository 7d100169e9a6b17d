// nextrush-v2/client: a reconnecting WebSocket client that resumes room streams (nextrush.v1) without loss.

/** The subprotocol the client offers; a server with `recovery` on accepts it. */
export const RECOVERY_PROTOCOL = 'nextrush.v1';
const RESUME_PARAM = 'nextrush-resume';

/** The part of a WebSocket (browser, Node >= 22, undici, ws) the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  send(data: string | ArrayBufferLike | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** What a message carries besides its data. */
export interface MessageMeta {
  /** The room it was broadcast to (absent for direct sends and global broadcasts, and without recovery). */
  room?: string;
  offset?: number;
  epoch?: string;
  /** True for a message the client missed while away, replayed after a reconnect. */
  replayed: boolean;
}

export type RoomEvent =
  | { room: string; type: 'joined'; position: StreamPosition }
  | { room: string; type: 'left' }
  | { room: string; type: 'recovered'; position: StreamPosition; replayed: number }
  | {
      room: string;
      type: 'unrecoverable';
      /** `epoch`: the room's history was lost; `window`: too old or too many missed; `unavailable`: the
       * server could not read or write history (Redis away; messages may be missing); `gap`: messages
       * are missing that nobody has any more (seen by the server's live feed, or by the client itself
       * as an offset jump). */
      reason: 'epoch' | 'window' | 'unavailable' | 'gap';
      position: StreamPosition;
    };

export interface BackoffOptions {
  /** First delay, ms (default 250). */
  initialMs?: number;
  /** Cap, ms (default 10 000). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of each delay that is random, 0..1 (default 0.5): delay * (1 - jitter * random). */
  jitter?: number;
}

export interface ClientOptions {
  /** A WebSocket constructor; default `globalThis.WebSocket` (browsers, Node >= 22). */
  WebSocket?: WebSocketConstructor;
  /** Offer the recovery subprotocol (default true). Off: plain messages and reconnection only. */
  recovery?: boolean;
  backoff?: BackoffOptions;
  /** Give up after this many failed attempts in a row (default Infinity). */
  maxRetries?: number;
}

export type MessageData = string | Uint8Array;

type Handler<T extends unknown[]> = (...args: T) => void;

const decoder = new TextDecoder();

/** Next delay for `attempt` (0-based): exponential, capped, with jitter. */
export function backoffDelay(
  attempt: number,
  o: BackoffOptions = {},
  random: () => number = Math.random
): number {
  const initial = o.initialMs ?? 250;
  const max = o.maxMs ?? 10_000;
  const factor = o.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, o.jitter ?? 0.5));
  const base = Math.min(max, initial * factor ** attempt);
  return Math.round(base * (1 - jitter * random()));
}

interface Header {
  t: string;
  r?: string;
  e?: string;
  o?: number;
  n?: number;
  reason?: string;
}

/** Splits a nextrush.v1 frame into its header (undefined for a plain message) and its data. */
function split(data: MessageData): { header: Header | undefined; body: MessageData } | undefined {
  let nl: number;
  let headerText: string;
  let body: MessageData;
  if (typeof data === 'string') {
    nl = data.indexOf('\n');
    if (nl === -1) return undefined;
    headerText = data.slice(0, nl);
    body = data.slice(nl + 1);
  } else {
    nl = data.indexOf(0x0a);
    if (nl === -1) return undefined;
    headerText = decoder.decode(data.subarray(0, nl));
    body = data.subarray(nl + 1);
  }
  if (headerText === '') return { header: undefined, body };
  try {
    const header = JSON.parse(headerText) as Header;
    return typeof header === 'object' && header !== null && typeof header.t === 'string'
      ? { header, body }
      : undefined;
  } catch {
    return undefined;
  }
}

function toData(raw: unknown): MessageData {
  if (typeof raw === 'string') return raw;
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  if (ArrayBuffer.isView(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  return String(raw);
}

function isPosition(h: Header): h is Header & { r: string; e: string; o: number } {
  return typeof h.r === 'string' && typeof h.e === 'string' && typeof h.o === 'number';
}

export class NextrushClient {
  private ws: WebSocketLike | undefined;
  private state_: ConnectionState = 'connecting';
  private attempt = 0;
  /** The last attempt offered the recovery subprotocol and never opened. */
  private offerFailed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retryAt: number | undefined;
  private lastClose_: { code: number; reason: string } | undefined;
  private readonly positions_ = new Map<string, StreamPosition>();
  /** Rooms whose replay is under way on this connection. */
  private readonly resuming = new Set<string>();
  private readonly messageHandlers = new Set<Handler<[MessageData, MessageMeta]>>();
  private readonly stateHandlers = new Set<Handler<[ConnectionState]>>();
  private readonly roomHandlers = new Set<Handler<[RoomEvent]>>();
  private readonly Ctor: WebSocketConstructor;

  constructor(
    readonly url: string,
    private readonly options: ClientOptions = {}
  ) {
    const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Ctor === undefined) throw new TypeError('no WebSocket constructor: pass options.WebSocket');
    this.Ctor = Ctor;
    this.open();
  }

  get state(): ConnectionState {
    return this.state_;
  }

  /** Code and reason of the last connection that closed (1001: the server shut down; 1006: it vanished). */
  get lastClose(): { code: number; reason: string } | undefined {
    return this.lastClose_;
  }

  /** While reconnecting: ms until the next attempt. */
  retryIn(): number | undefined {
    return this.retryAt === undefined ? undefined : Math.max(0, this.retryAt - Date.now());
  }

  /** Whether the current connection speaks the recovery protocol. */
  get recovery(): boolean {
    return this.ws?.protocol === RECOVERY_PROTOCOL;
  }

  /** Last position per room (what a reconnect resumes from). */
  positions(): Record<string, StreamPosition> {
    return Object.fromEntries([...this.positions_].map(([room, p]) => [room, { ...p }]));
  }

  /** Sends when open; returns false (and sends nothing) otherwise: messages are not queued. */
  send(data: string | ArrayBufferLike | ArrayBufferView): boolean {
    if (this.state_ !== 'open' || this.ws === undefined) return false;
    this.ws.send(data);
    return true;
  }

  /** Closes for good: no reconnection. */
  close(code = 1000, reason = ''): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.retryAt = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = ws.onerror = null;
      ws.close(code, reason);
    }
    this.setState('closed');
  }

  onMessage(handler: (data: MessageData, meta: MessageMeta) => void): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  onState(handler: (state: ConnectionState) => void): () => void {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  onRoom(handler: (event: RoomEvent) => void): () => void {
    this.roomHandlers.add(handler);
    return () => this.roomHandlers.delete(handler);
  }

  private open(): void {
    // Browsers fail a handshake when the server picks none of the offered subprotocols, so against a
    // server without recovery an offer never opens. After such a failure, and only while there is no
    // position to resume (nothing to lose), the next attempt goes without the offer.
    const offer = this.options.recovery !== false && (this.positions_.size > 0 || !this.offerFailed);
    let url = this.url;
    this.resuming.clear();
    if (offer && this.positions_.size > 0) {
      const resume: Record<string, [string, number]> = {};
      for (const [room, p] of this.positions_) {
        resume[room] = [p.epoch, p.offset];
        this.resuming.add(room);
      }
      url += `${url.includes('?') ? '&' : '?'}${RESUME_PARAM}=${encodeURIComponent(JSON.stringify(resume))}`;
    }
    let ws: WebSocketLike;
    try {
      ws = offer ? new this.Ctor(url, [RECOVERY_PROTOCOL]) : new this.Ctor(url);
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.attempt = 0;
      if (ws.protocol !== RECOVERY_PROTOCOL) this.resuming.clear();
      this.setState('open');
    };
    ws.onmessage = ev => this.receive(ws, toData(ev.data));
    ws.onclose = ev => {
      if (this.ws !== ws) return;
      this.lastClose_ = { code: ev.code, reason: ev.reason };
      this.ws = undefined;
      this.offerFailed = offer && !opened;
      this.retry();
    };
    ws.onerror = () => {};
  }

  private retry(): void {
    const max = this.options.maxRetries ?? Infinity;
    if (this.attempt >= max) {
      this.setState('closed');
      return;
    }
    const delay = backoffDelay(this.attempt++, this.options.backoff);
    this.retryAt = Date.now() + delay;
    this.setState('reconnecting');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.retryAt = undefined;
      this.open();
    }, delay);
  }

  private receive(ws: WebSocketLike, data: MessageData): void {
    if (ws.protocol !== RECOVERY_PROTOCOL) {
      this.emitMessage(data, { replayed: false });
      return;
    }
    const frame = split(data);
    // Not nextrush.v1 framing: a server bug; hand it over rather than lose it.
    if (frame === undefined) return this.emitMessage(data, { replayed: false });
    const h = frame.header;
    if (h === undefined) return this.emitMessage(frame.body, { replayed: false });
    if (h.t === 'leave' && typeof h.r === 'string') {
      this.positions_.delete(h.r);
      this.resuming.delete(h.r);
      return this.emitRoom({ room: h.r, type: 'left' });
    }
    if (!isPosition(h)) return;
    const position = { epoch: h.e, offset: h.o };
    switch (h.t) {
      case 'm':
        return this.roomMessage(h.r, position, frame.body);
      case 'join':
        this.positions_.set(h.r, position);
        return this.emitRoom({ room: h.r, type: 'joined', position });
      case 'recovered':
        this.positions_.set(h.r, position);
        this.resuming.delete(h.r);
        return this.emitRoom({ room: h.r, type: 'recovered', position, replayed: h.n ?? 0 });
      case 'unrecoverable': {
        this.positions_.set(h.r, position);
        this.resuming.delete(h.r);
        const reason =
          h.reason === 'window' || h.reason === 'unavailable' || h.reason === 'gap' ? h.reason : 'epoch';
        return this.emitRoom({ room: h.r, type: 'unrecoverable', reason, position });
      }
    }
  }

  private roomMessage(room: string, position: StreamPosition, body: MessageData): void {
    const last = this.positions_.get(room);
    if (last !== undefined && last.epoch === position.epoch) {
      if (position.offset <= last.offset) return; // already delivered: exactly once
      if (position.offset > last.offset + 1) {
        // Never skip silently: the app hears about the hole before the message after it.
        this.emitRoom({ room, type: 'unrecoverable', reason: 'gap', position: { ...last } });
      }
    }
    this.positions_.set(room, position);
    this.emitMessage(body, {
      room,
      epoch: position.epoch,
      offset: position.offset,
      replayed: this.resuming.has(room),
    });
  }

  private emitMessage(data: MessageData, meta: MessageMeta): void {
    for (const h of this.messageHandlers) h(data, meta);
  }

  private emitRoom(event: RoomEvent): void {
    for (const h of this.roomHandlers) h(event);
  }

  private setState(state: ConnectionState): void {
    if (this.state_ === state) return;
    this.state_ = state;
    for (const h of this.stateHandlers) h(state);
  }
}

/** Opens a client; it reconnects until `close()`. */
export function connect(url: string, options?: ClientOptions): NextrushClient {
  return new NextrushClient(url, options);
}
