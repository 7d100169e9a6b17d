// Room history for recovery across nodes: capped Redis Streams, numbered and published by Lua scripts.
import { createHash, randomBytes } from 'node:crypto';
import type { HistoryLimits } from '../recovery/history.js';
import type { SharedHistory, StoredEntry, StoredRead } from '../recovery/shared.js';

/*
 * Keys per room (`<prefix>` is the adapter's prefix):
 *   <prefix>:h:<room>  hash  e = epoch, o = offset of the newest message (HINCRBY: dense, 1, 2, 3...)
 *   <prefix>:s:<room>  stream, entry id `<offset>-0`, fields k (1 text, 2 binary), t (ms), d (bytes)
 * The append script runs atomically: it numbers the message, adds it to the stream, trims the stream
 * by count (MAXLEN maxMessages) and by age (MINID past the entries older than windowMs) and PUBLISHes
 * it with its position on the room's channel. One script both records and publishes, so the order of
 * the stream and the order every subscriber hears are the same: Redis' order. A hash without an epoch
 * (first use, Redis restarted without persistence, FLUSHALL, expiry) gets a new random one and the
 * stream is cleared: clients holding the old epoch are told `epoch`, never replayed a wrong stream.
 */
const APPEND = `
local meta, stream = KEYS[1], KEYS[2]
if redis.call('HSETNX', meta, 'e', ARGV[1]) == 1 then redis.call('DEL', stream) end
local e = redis.call('HGET', meta, 'e')
local o = redis.call('HINCRBY', meta, 'o', 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', stream, 'MAXLEN', ARGV[5], string.format('%d-0', o), 'k', ARGV[3], 't', string.format('%d', now), 'd', ARGV[4])
local min = nil
for _, entry in ipairs(redis.call('XRANGE', stream, '-', '+', 'COUNT', 16)) do
  if tonumber(entry[2][4]) >= now - tonumber(ARGV[6]) then break end
  min = tonumber(string.match(entry[1], '^%d+'))
end
if min then redis.call('XTRIM', stream, 'MINID', string.format('%d-0', min + 1)) end
redis.call('PEXPIRE', stream, ARGV[6])
redis.call('PEXPIRE', meta, ARGV[8])
redis.call('PUBLISH', ARGV[7], ARGV[2] .. ARGV[3] .. e .. ' ' .. string.format('%d', o) .. '\\n' .. ARGV[4])
return o
`;

/** Returns epoch, top, now (ms), then offset, kind, time, data for each entry after ARGV[2] (at most ARGV[3]). */
const READ = `
local meta, stream = KEYS[1], KEYS[2]
if redis.call('HSETNX', meta, 'e', ARGV[1]) == 1 then redis.call('DEL', stream) end
redis.call('PEXPIRE', meta, ARGV[4])
local t = redis.call('TIME')
local out = { redis.call('HGET', meta, 'e'), tonumber(redis.call('HGET', meta, 'o') or '0'),
  tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) }
if tonumber(ARGV[3]) > 0 then
  local from = string.format('%d-0', tonumber(ARGV[2]) + 1)
  for _, entry in ipairs(redis.call('XRANGE', stream, from, '+', 'COUNT', ARGV[3])) do
    local f = entry[2]
    out[#out + 1] = tonumber(string.match(entry[1], '^%d+'))
    out[#out + 1] = f[2]
    out[#out + 1] = tonumber(f[4])
    out[#out + 1] = f[6]
  end
end
return out
`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const SCRIPTS = { append: { sha: sha1(APPEND) }, read: { sha: sha1(READ) } };

/** A read that Redis does not answer within this time counts as failed (the client may be reconnecting). */
export const READ_TIMEOUT_MS = 2000;
/** How long a room's epoch and counter outlive its last use (at least 2 × windowMs). */
const META_TTL_MS = 86_400_000;

/** What the history needs from the adapter. */
export interface RedisLink {
  /** The publishing connection is ready for commands. */
  ready(): boolean;
  /** Sends a command on the publishing connection; bulk replies come back as Buffers. */
  command(args: (string | Buffer)[]): Promise<unknown>;
  /** Resolves once this node's subscription to the room's channel is in effect. */
  subscribed(room: string): Promise<void>;
  roomChannel(room: string): string;
  /** The envelope bytes before the payload of a sequenced message of `room` from this node. */
  head(room: string): Buffer;
  key(kind: 'h' | 's', room: string): string;
  /** An append was recorded (err undefined) or failed: counted in the adapter's stats. */
  appended(err?: unknown): void;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, cap]).finally(() => clearTimeout(timer));
}

const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v));

/** Parses the READ script's flat reply. */
export function parseRead(reply: unknown): StoredRead {
  if (!Array.isArray(reply) || reply.length < 3 || (reply.length - 3) % 4 !== 0) {
    throw new Error('redis: unexpected reply to the history read script');
  }
  const entries: StoredEntry[] = [];
  for (let i = 3; i < reply.length; i += 4) {
    const data = reply[i + 3] as unknown;
    entries.push({
      offset: Number(reply[i]),
      text: text(reply[i + 1]) === '1',
      at: Number(reply[i + 2]),
      data: Buffer.isBuffer(data) ? data : Buffer.from(String(data)),
    });
  }
  return { epoch: text(reply[0]), top: Number(reply[1]), now: Number(reply[2]), entries };
}

export class RedisHistory implements SharedHistory {
  readonly store = 'redis' as const;
  private readonly metaTtl: string;
  /** SCRIPT LOAD of both scripts on the current connection; every EVALSHA waits for it. */
  private loaded: Promise<void> | undefined;
  /** The load finished and no call still waits for it: EVALSHA can go out synchronously. */
  private scriptsReady = false;
  private waiting = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly limits: HistoryLimits
  ) {
    this.metaTtl = String(Math.max(META_TTL_MS, 2 * limits.windowMs));
  }

  ready(): boolean {
    return this.link.ready();
  }

  /** The connection went down: a restarted Redis has no scripts, so load them again before the next use. */
  reset(): void {
    this.loaded = undefined;
    this.scriptsReady = false;
  }

  follow(room: string): Promise<StoredRead> {
    if (!this.link.ready()) return Promise.reject(new Error('redis: not connected'));
    // A plain command, sent now (the scripts may still be loading): Redis answers it before any later
    // append of this node, so a broadcast right after a join is after the position read here.
    const top = this.link.command(['HMGET', this.link.key('h', room), 'e', 'o']);
    const position = async (): Promise<StoredRead> => {
      const [e, o] = (await top) as unknown[];
      await this.link.subscribed(room);
      if (e !== null && e !== undefined)
        return { epoch: text(e), top: Number(text(o ?? '0')), now: 0, entries: [] };
      // The room had no history: everything its new epoch holds came after the join.
      return { ...(await this.read(room, 0, 0)), top: 0 };
    };
    return withTimeout(position(), READ_TIMEOUT_MS);
  }

  /** Loads the scripts ahead of the first broadcast (when the connection is up). */
  warm(): void {
    if (this.link.ready()) this.scripts().catch(() => {});
  }

  read(room: string, after: number, limit: number): Promise<StoredRead> {
    if (!this.link.ready()) return Promise.reject(new Error('redis: not connected'));
    const args = [epoch(), String(after), String(limit), this.metaTtl];
    return withTimeout(this.run('read', room, args), READ_TIMEOUT_MS).then(parseRead);
  }

  append(room: string, data: string | Buffer): Promise<void> {
    const kind = typeof data === 'string' ? '1' : '2';
    const args: (string | Buffer)[] = [
      epoch(),
      this.link.head(room),
      kind,
      data,
      String(this.limits.maxMessages),
      String(this.limits.windowMs),
      this.link.roomChannel(room),
      this.metaTtl,
    ];
    return this.run('append', room, args).then(
      () => this.link.appended(),
      (err: unknown) => {
        this.link.appended(err);
        throw err;
      }
    );
  }

  /**
   * EVALSHA once the scripts are loaded. Every call waits for the same load, so commands still reach
   * Redis in call order (an EVAL retry after NOSCRIPT would let later appends overtake earlier ones).
   * A NOSCRIPT (Redis restarted or SCRIPT FLUSH unnoticed) fails the call and reloads for the next.
   */
  private run(script: keyof typeof SCRIPTS, room: string, args: (string | Buffer)[]): Promise<unknown> {
    const send = () => {
      const keys = ['2', this.link.key('h', room), this.link.key('s', room)];
      return this.link.command(['EVALSHA', SCRIPTS[script].sha, ...keys, ...args]).catch((err: unknown) => {
        if (String((err as Error)?.message).includes('NOSCRIPT')) this.reset();
        throw err;
      });
    };
    // Sent within the caller's turn when possible, so wsBroadcast() order is command order.
    if (this.scriptsReady && this.waiting === 0) return send();
    this.waiting++;
    return this.scripts().then(
      () => {
        this.waiting--;
        return send();
      },
      (err: unknown) => {
        this.waiting--;
        throw err;
      }
    );
  }

  private scripts(): Promise<void> {
    this.loaded ??= Promise.all([
      this.link.command(['SCRIPT', 'LOAD', APPEND]),
      this.link.command(['SCRIPT', 'LOAD', READ]),
    ]).then(
      () => {
        this.scriptsReady = true;
      },
      (err: unknown) => {
        this.loaded = undefined;
        throw err;
      }
    );
    return this.loaded;
  }
}

/** A fresh epoch candidate: used only if the room has none (the script keeps an existing one). */
function epoch(): string {
  return randomBytes(6).toString('base64url');
}
