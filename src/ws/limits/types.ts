// Public types of the abuse limits: the messageRate and clientLimits options, their events and counters.
import type { IncomingMessage } from 'node:http';
import type { WSConnection } from '../types.js';

/** Which per-connection budget a peer overspent. */
export type MessageLimit = 'messagesPerSecond' | 'bytesPerSecond';

/** A peer overspent its per-connection message or byte budget. */
export interface MessageLimitEvent {
  /** The budget that was overspent. */
  limit: MessageLimit;
  /** What the plugin does about it: drops messages until the budget refills, or closes with 1008. */
  policy: 'drop' | 'close';
}

/**
 * Per-connection limits on what a peer sends, as token buckets (off unless this option is given).
 * At least one of `messagesPerSecond` and `bytesPerSecond` is required.
 */
export interface MessageRateOptions {
  /** Messages a connection may send per second, sustained. */
  messagesPerSecond?: number;
  /**
   * Bytes a connection may send per second, counted as they arrive on the wire (frame headers, control
   * frames and compressed payloads included).
   */
  bytesPerSecond?: number;
  /**
   * How many seconds of the rate a quiet connection may spend at once (default 2): each bucket holds
   * rate x burst tokens (at least one message).
   */
  burst?: number;
  /** Over the limit: close with 1008 (default), or drop messages until the budget refills. */
  policy?: 'drop' | 'close';
  /**
   * Called when a connection goes over a limit: with 'drop', once per episode (the first dropped message
   * after an admitted one); with 'close', once, just before the close. Use it to log or to ban the peer.
   */
  onLimit?: (socket: WSConnection, event: MessageLimitEvent) => void;
}

/** Which per-client limit refused an upgrade. */
export type ClientLimit = 'maxConnections' | 'upgradesPerMinute';

/** An upgrade was refused because its client hit a per-client limit. */
export interface ClientRefusalEvent {
  /** The limit that refused the upgrade. */
  limit: ClientLimit;
  /** The client key the limit applies to. */
  key: string;
  /** Seconds sent in `Retry-After`. */
  retryAfter: number;
}

/**
 * Per-client caps checked before the 101 (off unless this option is given): over a cap the upgrade is
 * answered `429 Too Many Requests` with `Retry-After`. At least one of the two caps is required.
 */
export interface ClientLimitsOptions {
  /** Concurrent connections one client key may hold. */
  maxConnections?: number;
  /** Upgrades one client key may make per minute: a burst of this many, then one per 60/n seconds. */
  upgradesPerMinute?: number;
  /**
   * The client key of a request. Default: the remote address, or the first `X-Forwarded-For` address
   * when the app was created with `trustProxy: true`; an IPv6 address counts by its /64 prefix (one host
   * usually holds a whole /64), an IPv4-mapped one as its IPv4 address. Keys longer than 128 characters
   * are cut to 128.
   */
  key?: (req: IncomingMessage) => string;
  /**
   * Client keys tracked at most (default 10 000); past it the least recently seen key without an open
   * connection is forgotten, so memory stays bounded whatever the number of distinct clients.
   */
  maxKeys?: number;
  /** Called for every refused upgrade (to log, or to ban the key elsewhere). */
  onRefuse?: (req: IncomingMessage, event: ClientRefusalEvent) => void;
}

/** Counters of the abuse limits (in `getStats().limits`). */
export interface LimitStats {
  /** Messages dropped by `messageRate` (policy 'drop'). */
  messagesLimited: number;
  /** Connections closed with 1008 by `messageRate` (policy 'close'). */
  connectionsLimited: number;
  /** Upgrades refused with 429, by the limit that refused them. */
  upgradesRefused: Record<ClientLimit, number>;
  /** Client keys tracked now by `clientLimits` (bounded by `maxKeys`). */
  trackedKeys: number;
}
