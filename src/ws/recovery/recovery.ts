// Connection recovery for nextrush.v1 clients: room history, replay on re-join, join/leave notices.
import type { RecoveryStats } from '../types.js';
import { MemoryHistory, type HistoryLimits, type StreamPosition } from './history.js';
import { noticeBody, plainBody, RECOVERY_PROTOCOL, resumePositions, roomBody, type Notice } from './wire.js';

/** What recovery needs from a connection. */
export interface RecoveryPeer {
  readonly protocol: string;
  readonly url: string;
}

/** Queues one message body on a peer (through its compression, if any), in order with its other sends. */
export type SendBody<P> = (peer: P, text: boolean, body: Buffer | string) => void;

export function speaksRecovery(peer: { readonly protocol: string }): boolean {
  return peer.protocol === RECOVERY_PROTOCOL;
}

/** What both kinds of recovery (history in memory, history shared through the adapter) have in common. */
export abstract class RecoveryBase<P extends RecoveryPeer = RecoveryPeer> {
  private readonly pending = new WeakMap<P, Map<string, StreamPosition>>();
  protected replayed = 0;
  protected recovered = 0;
  protected unrecoverable = 0;

  constructor(
    readonly limits: HistoryLimits,
    protected readonly send: SendBody<P>
  ) {}

  /** A recovery client opened: remember the positions it asked to resume from. */
  opened(peer: P): void {
    const positions = resumePositions(peer.url);
    if (positions.size > 0) this.pending.set(peer, positions);
  }

  /** `peer` left `room`; `open` says whether it can still be told so (not when its connection closed). */
  left(peer: P, room: string, open: boolean): void {
    if (open) this.notify(peer, { t: 'leave', r: room });
  }

  /** The body recovery members get for a message that belongs to no room. */
  plain(data: string | Buffer): Buffer {
    return plainBody(data);
  }

  /** Records a room broadcast here, if this kind of recovery records on delivery; returns the body. */
  abstract record(room: string, data: string | Buffer, text: boolean): Buffer | undefined;
  abstract stats(): RecoveryStats;
  abstract stop(): void;

  /** The position `peer` asked to resume `room` from (once; later joins of the room are new joins). */
  protected takeResume(peer: P, room: string): StreamPosition | undefined {
    const from = this.pending.get(peer)?.get(room);
    if (from !== undefined) this.pending.get(peer)?.delete(room);
    return from;
  }

  protected counters(): Pick<RecoveryStats, 'replayed' | 'recovered' | 'unrecoverable'> {
    return { replayed: this.replayed, recovered: this.recovered, unrecoverable: this.unrecoverable };
  }

  protected notify(peer: P, notice: Notice): void {
    this.send(peer, true, noticeBody(notice));
  }
}

/** Recovery with the LocalAdapter: the history lives in this process. */
export class Recovery<P extends RecoveryPeer = RecoveryPeer> extends RecoveryBase<P> {
  readonly history: MemoryHistory;
  private readonly sweeper: NodeJS.Timeout;

  constructor(limits: HistoryLimits, send: SendBody<P>) {
    super(limits, send);
    this.history = new MemoryHistory(limits);
    this.sweeper = setInterval(() => this.history.sweep(), Math.min(limits.windowMs, 30_000));
    this.sweeper.unref();
  }

  /**
   * A recovery client joined `room` (the route handler re-joined it after a reconnect, or a new
   * join): replay what it missed and say so, or tell it where the stream stands now. Everything is
   * queued before `join()` returns, so no newer live message of the room can come first.
   */
  joined(peer: P, room: string): void {
    const from = this.takeResume(peer, room);
    if (from === undefined) {
      const p = this.history.position(room);
      this.notify(peer, { t: 'join', r: room, e: p.epoch, o: p.offset });
      return;
    }
    const replay = this.history.since(room, from);
    const p = replay.position;
    if (!replay.ok) {
      this.unrecoverable++;
      this.notify(peer, { t: 'unrecoverable', r: room, e: p.epoch, o: p.offset, reason: replay.reason });
      return;
    }
    for (const entry of replay.entries) this.send(peer, entry.text, entry.body);
    this.replayed += replay.entries.length;
    this.recovered++;
    this.notify(peer, { t: 'recovered', r: room, e: p.epoch, o: p.offset, n: replay.entries.length });
  }

  /** Records a room broadcast and returns the body recovery members get (header + data). */
  record(room: string, data: string | Buffer, text: boolean): Buffer {
    return this.history.append(room, text, p => roomBody(room, p, data)).body;
  }

  stats(): RecoveryStats {
    return { store: 'memory', ...this.history.stats(), ...this.counters() };
  }

  stop(): void {
    clearInterval(this.sweeper);
  }
}
