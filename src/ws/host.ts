// What a connection needs from the plugin that owns it: resolved options, counters, rooms, lifecycle hooks.
import type { Logger } from './log.js';
import type { RoomRegistry } from './rooms.js';
import type { Connection } from './connection/connection.js';
import type { DeflateContext } from './deflate/context.js';
import type { HeartbeatClock } from './heartbeat.js';
import type { MessageRate } from './limits/message-rate.js';

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
  readonly rooms: RoomRegistry<Connection>;
  readonly log: Logger;
  /** permessage-deflate state shared by the plugin's connections, when the option is on. */
  readonly deflate: DeflateContext | undefined;
  /** The `messageRate` policy, when the option is on: each connection gets a meter from it. */
  readonly messageRate?: MessageRate;
  /** The heartbeat's time base, for `lastSeen`. */
  readonly clock: HeartbeatClock;
  /** A connection exists (PENDING): it counts against maxConnections and is closed on shutdown. */
  connectionCreated(connection: Connection): void;
  /** PENDING -> OPEN: broadcasts reach it from now on. */
  connectionOpened(connection: Connection): void;
  /** CLOSED and its onClose handlers ran: it leaves its rooms and every set. */
  connectionClosed(connection: Connection): void;
  /** Set when connection recovery is on (nextrush.v1 peers then get their direct sends framed). */
  readonly recovery?: object | undefined;
}
