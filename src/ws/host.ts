// What a connection needs from the plugin that owns it: resolved options, counters, rooms, logging.
import type { Logger } from './log.js';
import type { RoomRegistry } from './rooms.js';
import type { WebSocketConnection } from './connection.js';
import type { DeflateContext } from './deflate.js';

export interface ResolvedOptions {
  maxMessageSize: number;
  maxBackpressure: number;
  backpressurePolicy: 'close' | 'drop';
  closeTimeoutMs: number;
  /** Reading from a socket pauses while more than this many bytes wait to be written to it. */
  readPauseBytes: number;
}

/** Counters updated on the hot path: plain numbers on one object. */
export interface Counters {
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  messagesDropped: number;
  protocolErrors: number;
}

export interface ConnectionHost {
  readonly options: ResolvedOptions;
  readonly stats: Counters;
  readonly rooms: RoomRegistry<WebSocketConnection>;
  readonly log: Logger;
  /** permessage-deflate state shared by the plugin's connections, when the option is on. */
  readonly deflate: DeflateContext | undefined;
  connectionClosed(connection: WebSocketConnection): void;
  /** Route parameters of the `app.ws()` route that serves `url`. */
  routeParams(url: string): Record<string, string>;
}
