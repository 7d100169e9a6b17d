// Public types of the WebSocket plugin: options, the connection interface, handlers and stats.
import type { IncomingMessage } from 'node:http';
import type { Context } from '../core/types.js';
import type { BroadcastAdapter, AdapterStats } from './adapter.js';
import type { ReadyState } from './connection/lifecycle.js';
import type { ClientLimitsOptions, LimitStats, MessageRateOptions } from './limits/types.js';

/** What `send()` did with a message. */
export type SendResult =
  /** Handed to the socket; nothing is waiting in front of it beyond the socket's own buffer. */
  | 'sent'
  /** Accepted, but the connection is under backpressure: `bufferedAmount` is above the high-water mark. */
  | 'queued'
  /** Not sent: the connection is not open, or `maxBackpressure` was exceeded. */
  | 'dropped';

/** The data a message handler receives: text frames as `string`, binary frames as `Buffer`. */
export type WSMessage = string | Buffer;

/**
 * Handlers are typed `=> void` as in the spec, so any function fits (`s => s.send(x)` included); async
 * handlers are fine too: a rejected promise is caught, logged and closes the connection with 1011.
 */
export type WSMessageHandler = (data: WSMessage) => void;
/** Receives the close code and reason once the connection has closed. */
export type WSCloseHandler = (code: number, reason: string) => void;

/**
 * The socket a route handler and wsUse middleware get. While middleware runs (readyState 0) it may
 * send() and close(), but no broadcast reaches it and it cannot join rooms; it is OPEN (1) once the
 * route handler is attached.
 */
export interface WSConnection {
  /**
   * Sends a text frame for a string, a binary frame for a Buffer / typed array / ArrayBuffer.
   * Buffer ownership: a binary payload of up to 64 KiB is copied, so its buffer may be reused as soon
   * as send() returns; a larger one is written without a copy and must not be modified until it is
   * sent (`bufferedAmount` back to 0, or `onDrain`) — pass a copy if you need the buffer back at once.
   */
  send(data: string | Buffer | ArrayBufferView | ArrayBuffer): SendResult;
  /**
   * Starts the closing handshake: queued data is flushed, then a close frame with `code` (default 1000)
   * and `reason` (at most 123 UTF-8 bytes) is sent. Throws a RangeError for a code that may not be sent
   * (allowed: 1000-1003, 1007-1014, 3000-4999) or a reason that is too long.
   */
  close(code?: number, reason?: string): void;
  /** Destroys the TCP connection without a closing handshake (onClose reports 1006). */
  terminate(): void;
  /** Sends a ping (at most 125 bytes, else a RangeError WS_ERR_PING_TOO_LONG). */
  ping(data?: string | Buffer): void;
  /** Calls `handler` for every complete message (text as string, binary as Buffer). */
  onMessage(handler: WSMessageHandler): void;
  /**
   * Fires exactly once: with the peer's close code (1005 when it sent none), or 1006 when TCP closed
   * without a close frame. `rooms` still lists the rooms the socket was in while the handlers run.
   */
  onClose(handler: WSCloseHandler): void;
  /** Fires when the send queue drains after backpressure. */
  onDrain(handler: () => void): void;
  /**
   * Joins a room. Throws WS_ERR_INVALID_ROOM (TypeError) for '' or a non-string, and WS_ERR_NOT_OPEN
   * when the socket is not OPEN (in wsUse middleware, closing or closed).
   */
  join(room: string): void;
  /** Removes this connection from `room` (deleted with its last member). */
  leave(room: string): void;

  /** 0 while wsUse middleware runs, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  readonly readyState: ReadyState;
  /** The request path with its query string, as the client asked for it. */
  readonly url: string;
  /** Rooms this connection is in (read-only: use `join` / `leave`). */
  readonly rooms: Set<string>;
  /** Route parameters of the matched `app.ws()` path (`:name`, and `*`). */
  readonly params: Record<string, string>;
  /** The subprotocol agreed in the handshake, or '' when none. */
  readonly protocol: string;
  /** The extensions agreed in the handshake (`Sec-WebSocket-Extensions` of the response), or ''. */
  readonly extensions: string;
  /** Bytes accepted by `send()` that the kernel has not taken yet. */
  readonly bufferedAmount: number;
  /** Remote IP address. */
  readonly remoteAddress: string;
  /**
   * What carries this WebSocket: '1.1' after an HTTP/1.1 upgrade (its own TCP connection), '2.0' on a
   * stream of an HTTP/2 connection (RFC 8441 extended CONNECT), shared with the page and other sockets.
   */
  readonly httpVersion: '1.1' | '2.0';
}

/**
 * A route handler: the connection, and the app's context of the upgrade request (`ctx.state` as the
 * app's middleware left it, `ctx.params`, `ctx.ws === socket`). One-argument handlers fit too.
 */
export type WSHandler = (socket: WSConnection, ctx: WSContext) => void;

/** Upgrade-time middleware: runs after the 101, before the route handler. Call `next()` to continue. */
export type WSMiddleware = (
  socket: WSConnection,
  req: IncomingMessage,
  next: () => void
) => void | Promise<void>;

/** Options of `new WebSocketPlugin()`; every one has a default (see docs/limits.md). */
export interface WebSocketPluginOptions {
  /** WebSocket path patterns (supports `/*` wildcards and `:param` segments). Routes of `app.ws()` are always accepted too. */
  path?: string | string[];
  /** Heartbeat interval in milliseconds (default: 30000; 0 disables). */
  heartbeatMs?: number;
  /** Pong timeout in milliseconds (default: 60000). */
  pongTimeoutMs?: number;
  /** Maximum concurrent connections (default: 1000). */
  maxConnections?: number;
  /**
   * Maximum message size in bytes (default: 16 MiB; at most 4 GiB). Text messages are also limited by
   * V8's string length (about 512 MiB): a larger one closes the connection with 1009.
   */
  maxMessageSize?: number;
  /** Allowed origins (default: all). `'*'` allows all; RegExps are tested against the Origin header. */
  allowOrigins?: (string | RegExp)[];
  /**
   * Custom client verification; false refuses with 401, a throw or rejection with 500. It holds a
   * maxConnections slot until it settles, the client hangs up, or `verifyTimeoutMs` passes.
   */
  verifyClient?: (req: IncomingMessage) => Promise<boolean> | boolean;
  /** How long an asynchronous verifyClient may take before the upgrade is refused with 503, ms (default 10000). */
  verifyTimeoutMs?: number;
  /** Enable debug logging (structured JSON lines on stderr). */
  debug?: boolean;

  /** How long to wait for the peer's close frame after sending ours, ms (default 5000). */
  closeTimeoutMs?: number;
  /** Bytes that may wait in a connection's send queue before `backpressurePolicy` applies (default 4 MiB). */
  maxBackpressure?: number;
  /** Past `maxBackpressure`: close the connection with 1008 (default), or drop the message. */
  backpressurePolicy?: 'close' | 'drop';
  /** Broadcast adapter for rooms across processes (default: in-process). */
  adapter?: BroadcastAdapter;
  /** Subprotocols the server speaks, in order of preference, or a function that picks one. */
  protocols?: string[] | ((offered: string[], req: IncomingMessage) => string | false);
  /**
   * permessage-deflate (RFC 7692), off by default: each compressing connection costs CPU and up to a few
   * hundred KiB of zlib memory, and most small messages do not shrink. `true` uses the defaults.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Per-connection limits on messages and bytes received (token buckets), off by default: see
   * docs/limits.md. Over a limit the connection is closed with 1008 or the message dropped.
   */
  messageRate?: MessageRateOptions;
  /**
   * Per-client caps on concurrent connections and upgrades per minute, off by default: answered 429
   * with Retry-After before the 101. See docs/limits.md.
   */
  clientLimits?: ClientLimitsOptions;
  /**
   * Connection recovery for clients that negotiate the `nextrush.v1` subprotocol (see
   * docs/recovery.md), off by default. Every room broadcast is kept for `windowMs` and up to
   * `maxMessages` per room, and a reconnecting client gets what it missed. `true` uses the defaults.
   * Plain WebSocket clients see no difference.
   */
  recovery?: boolean | RecoveryOptions;
}

/** The `recovery` option's limits: how long and how much room history is kept for reconnecting clients. */
export interface RecoveryOptions {
  /** How long a room's messages are kept for replay, ms (default 120 000). */
  windowMs?: number;
  /** Messages kept per room (default 1 000). */
  maxMessages?: number;
  /** Rooms with a history at once; past it the oldest room's history is dropped (default 10 000). */
  maxRooms?: number;
}

/** Recovery counters and history memory (present when the option is on). */
export interface RecoveryStats {
  /**
   * Where the history lives: `memory` (LocalAdapter: this process) or `redis` (RedisAdapter: Redis
   * Streams, shared by every node; `messages` and `bytes` are then 0, as this process holds none).
   */
  store: 'memory' | 'redis';
  /** Rooms with a history (with Redis: rooms this node follows, i.e. with local members). */
  rooms: number;
  /** Messages held in this process over all rooms. */
  messages: number;
  /** Bytes held in this process: message bodies plus a fixed per-entry overhead estimate. */
  bytes: number;
  /** Messages replayed to reconnecting clients. */
  replayed: number;
  /** Rooms a reconnecting client got back in full (including those with nothing missed). */
  recovered: number;
  /**
   * Times a recovery client was told a room's stream is not recoverable (window passed, history lost,
   * a gap that could not be filled, the shared store unavailable).
   */
  unrecoverable: number;
  /** Room broadcasts that could not be recorded (Redis unavailable): delivered on this node only. */
  unrecorded?: number;
}

/** Tuning of permessage-deflate (RFC 7692) when `perMessageDeflate` is an object. */
export interface PerMessageDeflateOptions {
  /** Messages smaller than this many bytes are sent uncompressed (default 1024). */
  threshold?: number;
  /** Compress every message with a fresh window (less memory, worse ratio; default false). */
  serverNoContextTakeover?: boolean;
  /** Ask clients to compress every message with a fresh window (default false). */
  clientNoContextTakeover?: boolean;
  /** Window bits the server compresses with, 9-15 (default 15; 8 is not possible with zlib). */
  serverMaxWindowBits?: number;
  /** Window bits clients are asked to use when they allow it, 8-15 (default: the client's choice). */
  clientMaxWindowBits?: number;
  /** zlib compression level 0-9 (default 6). */
  level?: number;
  /** zlib memLevel 1-9 (default 8). */
  memLevel?: number;
  /** zlib jobs (compress or inflate) running at once for the plugin (default 10). */
  concurrencyLimit?: number;
}

/** permessage-deflate counters (present when the option is on). */
export interface CompressionStats {
  /** Messages compressed (a broadcast shared by many recipients counts once). */
  messagesCompressed: number;
  /** Bytes before compression. */
  bytesIn: number;
  /** Bytes after compression. */
  bytesOut: number;
  /** Compressed messages received and inflated. */
  messagesInflated: number;
  /** Compressed bytes received. */
  inflateBytesIn: number;
  /** Bytes those inflated to. */
  inflateBytesOut: number;
  /** Broadcast compressions whose output went to more than one recipient. */
  sharedCompressions: number;
  /** zlib jobs waiting for a slot now. */
  jobsWaiting: number;
}

/** What `WebSocketPlugin.getStats()` reports: connections, rooms, traffic, refusals, adapter, compression. */
export interface WebSocketStats {
  /** Open connections now. */
  connections: number;
  /** Rooms with at least one local member now. */
  rooms: number;
  /** Messages sent to peers. */
  messagesSent: number;
  /** Messages received from peers. */
  messagesReceived: number;
  /** Bytes written to sockets (frames, including headers). */
  bytesSent: number;
  /** Bytes read from sockets. */
  bytesReceived: number;
  /** Messages not sent because the connection was not open or its backpressure limit was hit. */
  messagesDropped: number;
  /** Connections upgraded since start. */
  connectionsOpened: number;
  /** The part of `connections` and `connectionsOpened` carried by HTTP/2 streams (RFC 8441 extended CONNECT). */
  http2: { connections: number; connectionsOpened: number };
  /** Upgrades refused since start, by reason. */
  connectionsRefused: Record<RefusalReason, number>;
  /** Connections closed because of protocol errors, by error code. */
  protocolErrors: number;
  /** The broadcast adapter's own counters. */
  adapter: AdapterStats;
  /** permessage-deflate counters, when `perMessageDeflate` is on. */
  compression?: CompressionStats;
  /** `messageRate` and `clientLimits` counters (zeros when they are off). */
  limits: LimitStats;
  /** Recovery history and counters, when `recovery` is on. */
  recovery?: RecoveryStats;
}

/** Why an upgrade was refused: the key of `WebSocketStats.connectionsRefused`. */
export type RefusalReason =
  | 'path'
  | 'handshake'
  | 'origin'
  | 'limit'
  | 'verify'
  /** verifyClient did not settle within verifyTimeoutMs (503). */
  | 'timeout'
  | 'closing'
  | 'error'
  /** Over a `clientLimits` cap (429); `limits.upgradesRefused` says which. */
  | 'clientLimit';

/** The room manager exposed as `ctx.wsRooms`. */
export interface WSRoomManager {
  /** Same rules as `socket.join(room)`: only OPEN sockets of this plugin may join (WS_ERR_NOT_OPEN). */
  join(socket: WSConnection, room: string): void;
  /** Removes `socket` from `room`. */
  leave(socket: WSConnection, room: string): void;
  /** Sends to every member of `room` on this node and, through the adapter, on every node. */
  broadcast(room: string, data: string | Buffer): void;
  /** Local members of `room`. */
  size(room: string): number;
  /** Names of the rooms with local members. */
  rooms(): string[];
  /** Whether `room` has a local member. */
  has(room: string): boolean;
}

/**
 * The context as the WebSocket plugin extends it (the spec's `WSContext`); every `Context` of an app
 * with the plugin has these members.
 */
export interface WSContext extends Context {
  /** WebSocket connection (when request is upgraded): set after the 101, before the route handler runs. */
  ws?: WSConnection;
  /** Whether this request is a WebSocket upgrade request: true through the whole chain of an upgrade. */
  isWebSocket: boolean;
  /** WebSocket room manager (the plugin's, on every context). */
  wsRooms: WSRoomManager;
}
