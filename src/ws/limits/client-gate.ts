// The clientLimits check of the upgrade path: the client's key, its table entry, and the refusal counters.
import type { IncomingMessage } from 'node:http';
import type { WsRefusalCode } from '../errors.js';
import type { Logger } from '../log.js';
import { clientKey } from './client-key.js';
import { ClientLimits, type ClientEntry } from './client-limits.js';
import type { ClientLimitsConfig } from './options.js';
import type { ClientLimit } from './types.js';

export type GateVerdict =
  { ok: true; entry: ClientEntry } | { ok: false; code: WsRefusalCode; headers?: Record<string, string> };

const REFUSAL: Record<ClientLimit, WsRefusalCode> = {
  maxConnections: 'WS_REFUSE_CLIENT_CONNECTIONS',
  upgradesPerMinute: 'WS_REFUSE_CLIENT_RATE',
};

export class ClientGate {
  /** Upgrades refused with 429, by limit. */
  readonly refused: Record<ClientLimit, number> = { maxConnections: 0, upgradesPerMinute: 0 };
  private readonly table: ClientLimits;

  constructor(
    private readonly config: ClientLimitsConfig,
    private readonly log: Logger
  ) {
    this.table = new ClientLimits(config);
  }

  get trackedKeys(): number {
    return this.table.size;
  }

  /**
   * Admits `req` or says why not. An admitted entry is given back with `release`, exactly once. The
   * default key is the app's `ctx.ip` (X-Forwarded-For only with `trustProxy`; IPv6: its /64), read
   * only then (reading the peer's address is a system call).
   */
  admit(req: IncomingMessage, ctx: { readonly ip: string }): GateVerdict {
    let key: unknown;
    try {
      key = this.config.key === undefined ? clientKey(ctx.ip) : this.config.key(req);
      if (typeof key !== 'string') throw new TypeError(`key() returned ${typeof key}, not a string`);
    } catch (error) {
      this.log('error', 'clientLimits.key threw', { url: req.url, error: String(error) });
      return { ok: false, code: 'WS_REFUSE_CLIENT_KEY_FAILED' };
    }
    const verdict = this.table.admit(key, performance.now());
    if (verdict.ok) return verdict;
    this.refused[verdict.limit]++;
    const onRefuse = this.config.onRefuse;
    if (onRefuse !== undefined) {
      try {
        onRefuse(req, { limit: verdict.limit, key, retryAfter: verdict.retryAfter });
      } catch (error) {
        this.log('error', 'clientLimits.onRefuse threw', { url: req.url, error: String(error) });
      }
    }
    return {
      ok: false,
      code: REFUSAL[verdict.limit],
      headers: { 'Retry-After': String(verdict.retryAfter) },
    };
  }

  release(entry: ClientEntry): void {
    this.table.release(entry, performance.now());
  }
}
