// Per-room message history in process memory: epoch, dense offsets, bounded by count, age and rooms.
import { randomBytes } from 'node:crypto';

/** Where a client stands in a room's stream. */
export interface StreamPosition {
  /** Changes whenever the room's history is lost (new process, room evicted). */
  epoch: string;
  /** Offset of the last message; the next message to the room gets offset + 1. 0 before the first. */
  offset: number;
}

export interface HistoryEntry {
  offset: number;
  text: boolean;
  /** The bytes a recovery client receives for this message (header and payload). */
  body: Buffer;
  /** Date.now() when it was appended. */
  at: number;
}

/**
 * Why a stream position cannot be continued: `epoch` (history lost), `window` (too old or too many
 * missed), `unavailable` (the shared store could not be read or written), `gap` (a node saw messages
 * missing from its live feed that the store no longer has).
 */
export type UnrecoverableReason = 'epoch' | 'window' | 'unavailable' | 'gap';

export type Replay =
  | { ok: true; position: StreamPosition; entries: HistoryEntry[] }
  | { ok: false; reason: UnrecoverableReason; position: StreamPosition };

/** The resolved `recovery` option: how long and how much room history is kept. */
export interface HistoryLimits {
  /** Messages older than this are not replayed, ms. */
  windowMs: number;
  /** Messages kept per room. */
  maxMessages: number;
  /** Rooms with a history in memory (LocalAdapter only). */
  maxRooms: number;
}

export const RECOVERY_DEFAULTS: HistoryLimits = { windowMs: 120_000, maxMessages: 1000, maxRooms: 10_000 };

export interface HistoryStats {
  /** Rooms with a stream. */
  rooms: number;
  /** Messages held over all rooms. */
  messages: number;
  /** Bytes of message bodies held (payload and recovery header). */
  bytes: number;
}

/**
 * Per-entry cost besides the body (entry object, Buffer object, array slot), counted in `bytes` so the
 * figure is honest; measured with bench/recovery.ts (about 190 bytes on Node 20).
 */
export const ENTRY_OVERHEAD = 192;

class RoomStream {
  constructor(
    readonly epoch = randomBytes(6).toString('base64url'),
    public top = 0
  ) {}
  /** Entries in offset order; `start` skips the trimmed head (compacted when it grows). */
  private items: HistoryEntry[] = [];
  private start = 0;
  lastUsed = 0;

  get length(): number {
    return this.items.length - this.start;
  }

  push(entry: HistoryEntry, max: number): number {
    this.items.push(entry);
    let freed = 0;
    while (this.length > max) freed += this.drop();
    return freed;
  }

  /** Drops entries older than `cutoff`; returns the bytes freed. */
  expire(cutoff: number): number {
    let freed = 0;
    while (this.length > 0 && this.items[this.start].at < cutoff) freed += this.drop();
    return freed;
  }

  oldest(): HistoryEntry | undefined {
    return this.items[this.start];
  }

  /** Entries with offset > `after`, in order (dense offsets make it an index computation). */
  after(after: number): HistoryEntry[] {
    return this.items.slice(this.items.length - (this.top - after));
  }

  private drop(): number {
    const e = this.items[this.start];
    this.items[this.start++] = undefined as unknown as HistoryEntry;
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
    return e.body.length + ENTRY_OVERHEAD;
  }
}

/**
 * The LocalAdapter's history. Every room broadcast is appended whether or not the room has members
 * here (a client that is away is no longer a member). Memory is bounded by `maxRooms` streams of at
 * most `maxMessages` entries, none older than `windowMs` after a sweep.
 */
export class MemoryHistory {
  private readonly streams = new Map<string, RoomStream>();
  /**
   * Streams swept for idleness leave their position behind (a few dozen bytes), so the room keeps its
   * epoch and offsets and a late client hears "window", not "epoch". Bounded like the streams.
   */
  private readonly retired = new Map<string, StreamPosition>();
  private messages = 0;
  private bytes = 0;

  constructor(
    private readonly limits: HistoryLimits,
    private readonly now: () => number = Date.now
  ) {}

  /** The room's current position; creates its stream (new epoch) if it has none. */
  position(room: string): StreamPosition {
    const s = this.stream(room);
    return { epoch: s.epoch, offset: s.top };
  }

  /** Appends a message and returns its position. `body` is kept as is (the caller gives up ownership). */
  append(room: string, text: boolean, makeBody: (p: StreamPosition) => Buffer): HistoryEntry {
    const s = this.stream(room);
    const offset = ++s.top;
    const entry: HistoryEntry = { offset, text, body: makeBody({ epoch: s.epoch, offset }), at: this.now() };
    const before = s.length;
    this.bytes += entry.body.length + ENTRY_OVERHEAD - s.push(entry, this.limits.maxMessages);
    this.messages += s.length - before;
    return entry;
  }

  /** What a client at `from` missed in `room`, or why it cannot be told. */
  since(room: string, from: StreamPosition): Replay {
    const s = this.stream(room);
    const position = { epoch: s.epoch, offset: s.top };
    if (from.epoch !== s.epoch || from.offset > s.top) {
      return { ok: false, reason: 'epoch', position };
    }
    s.lastUsed = this.now();
    if (from.offset === s.top) return { ok: true, position, entries: [] };
    this.expire(s);
    const first = s.oldest();
    if (first === undefined || first.offset > from.offset + 1)
      return { ok: false, reason: 'window', position };
    return { ok: true, position, entries: s.after(from.offset) };
  }

  /** Drops expired entries and streams idle for longer than the window. */
  sweep(): void {
    const cutoff = this.now() - this.limits.windowMs;
    for (const [room, s] of this.streams) {
      this.expire(s);
      if (s.length === 0 && s.lastUsed < cutoff) {
        this.streams.delete(room);
        if (this.retired.size >= this.limits.maxRooms) this.retired.delete(this.retired.keys().next().value!);
        this.retired.set(room, { epoch: s.epoch, offset: s.top });
      }
    }
  }

  stats(): HistoryStats {
    return { rooms: this.streams.size, messages: this.messages, bytes: this.bytes };
  }

  private expire(s: RoomStream): void {
    const before = s.length;
    const freed = s.expire(this.now() - this.limits.windowMs);
    if (freed > 0) {
      this.messages -= before - s.length;
      this.bytes -= freed;
    }
  }

  private stream(room: string): RoomStream {
    let s = this.streams.get(room);
    if (s === undefined) {
      if (this.streams.size >= this.limits.maxRooms) this.evictOne();
      const old = this.retired.get(room);
      this.retired.delete(room);
      s = old ? new RoomStream(old.epoch, old.offset) : new RoomStream();
      this.streams.set(room, s);
    }
    s.lastUsed = this.now();
    return s;
  }

  /** Map order is insertion order; the oldest-created stream goes (its clients will see a new epoch). */
  private evictOne(): void {
    for (const [room, s] of this.streams) {
      this.streams.delete(room);
      this.messages -= s.length;
      this.bytes -= s.length === 0 ? 0 : this.sizeOf(s);
      return;
    }
  }

  private sizeOf(s: RoomStream): number {
    let n = 0;
    for (const e of s.after(s.top - s.length)) n += e.body.length + ENTRY_OVERHEAD;
    return n;
  }
}
