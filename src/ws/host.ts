// What a connection needs from the plugin that owns it: resolved options, counters, rooms, logging.
import type { Logger } from './log.js';
import type { RoomRegistry } from './rooms.js';
import type { WebSocketConnection } from './connection.js';

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
  connectionClosed(connection: WebSocketConnection): void;
}
