// Per-client-key connection counts and upgrade budgets in a table whose size is bounded, whatever the number of keys.
import { msUntil, refilled } from './token-bucket.js';
import type { ClientLimit } from './types.js';

export interface ClientLimitSettings {
  /** Concurrent connections per key; 0 = not limited. */
  maxConnections: number;
  /** Upgrades per key per minute (bucket size; refills at this many per 60 s); 0 = not limited. */
  upgradesPerMinute: number;
  /** Keys tracked at most (more only while that many keys hold open connections). */
  maxKeys: number;
}

/** One client key's state: ~100 bytes of heap with its Map slot and a short key (see docs/limits.md). */
export interface ClientEntry {
  readonly key: string;
  /** Connections (and upgrades past this check) the key holds now. */
  active: number;
  /** Upgrade tokens at `last`. */
  tokens: number;
  /** ms (monotonic) of the last update of `tokens`. */
  last: number;
}

export type Admission =
  | { ok: true; entry: ClientEntry }
  | { ok: false; limit: ClientLimit; /** whole seconds, at least 1 */ retryAfter: number };

/** Seconds a client over `maxConnections` is told to wait: no one knows when one of its connections ends. */
export const CONNECTIONS_RETRY_AFTER = 5;

/** Keys are cut to this many characters, so one entry's size is bounded too. */
export const MAX_KEY_LENGTH = 128;

/**
 * The first MAX_KEY_LENGTH characters as a string of their own: a plain slice would keep the whole long
 * key alive (V8 slices point into their parent); slicing a fresh concatenation points into a short copy.
 */
function cut(key: string): string {
  return (' ' + key.slice(0, MAX_KEY_LENGTH)).slice(1);
}

/**
 * Keys that hold connections live in `active` (as many as there are open connections at most). Keys
 * without connections but with upgrade history live in two generations of at most maxKeys / 2 each: seen
 * keys move to the newer one, and when it is full the older one is dropped whole. No step scans the table,
 * and at most `maxKeys` keys without connections are ever remembered, whatever the number of clients.
 */
export class ClientLimits {
  private readonly active = new Map<string, ClientEntry>();
  private recent = new Map<string, ClientEntry>();
  private older = new Map<string, ClientEntry>();
  private readonly generationSize: number;
  private readonly refillPerSecond: number;

  constructor(readonly settings: ClientLimitSettings) {
    this.generationSize = Math.max(1, Math.floor(settings.maxKeys / 2));
    this.refillPerSecond = settings.upgradesPerMinute / 60;
  }

  /** Keys tracked now. */
  get size(): number {
    return this.active.size + this.recent.size + this.older.size;
  }

  /**
   * Checks an upgrade of `rawKey` at `now` (ms, monotonic). Admitted: the key holds one more connection
   * until `release(entry)` is called, exactly once. Refused: which limit, and the Retry-After seconds.
   */
  admit(rawKey: string, now: number): Admission {
    const key = rawKey.length > MAX_KEY_LENGTH ? cut(rawKey) : rawKey;
    const s = this.settings;
    let entry = this.active.get(key);
    if (entry === undefined)
      entry = this.idle(key) ?? { key, active: 0, tokens: s.upgradesPerMinute, last: now };
    if (s.maxConnections !== 0 && entry.active >= s.maxConnections) {
      return { ok: false, limit: 'maxConnections', retryAfter: CONNECTIONS_RETRY_AFTER };
    }
    if (s.upgradesPerMinute !== 0) {
      entry.tokens = refilled(entry.tokens, now - entry.last, this.refillPerSecond, s.upgradesPerMinute);
      entry.last = now;
      if (entry.tokens < 1) {
        this.remember(entry);
        const wait = msUntil(entry.tokens, 1, this.refillPerSecond);
        return { ok: false, limit: 'upgradesPerMinute', retryAfter: Math.max(1, Math.ceil(wait / 1000)) };
      }
      entry.tokens -= 1;
    }
    if (entry.active++ === 0) this.active.set(key, entry);
    return { ok: true, entry };
  }

  /** The connection admitted with `entry` ended (or its upgrade failed). Call exactly once per admission. */
  release(entry: ClientEntry, now: number): void {
    if (entry.active === 0 || --entry.active > 0) return;
    this.active.delete(entry.key);
    const perMinute = this.settings.upgradesPerMinute;
    // A full bucket carries no history: the key is forgotten.
    if (perMinute === 0) return;
    entry.tokens = refilled(entry.tokens, now - entry.last, this.refillPerSecond, perMinute);
    entry.last = now;
    if (entry.tokens < perMinute) this.remember(entry);
  }

  /** The entry of `key`, if tracked (for tests and diagnostics). */
  peek(key: string): Readonly<ClientEntry> | undefined {
    return this.active.get(key) ?? this.recent.get(key) ?? this.older.get(key);
  }

  /** Takes the entry of a key without connections out of the generations. */
  private idle(key: string): ClientEntry | undefined {
    const entry = this.recent.get(key);
    if (entry !== undefined) {
      this.recent.delete(key);
      return entry;
    }
    const old = this.older.get(key);
    if (old !== undefined) this.older.delete(key);
    return old;
  }

  /** Files a key without connections in the newer generation, dropping the older one when it is full. */
  private remember(entry: ClientEntry): void {
    if (this.recent.size >= this.generationSize) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(entry.key, entry);
  }
}
