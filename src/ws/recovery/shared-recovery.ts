// Recovery over a history shared by every node (RedisAdapter): ordered live feeds, gap fills, replays.
import type { RecoveryStats } from '../types.js';
import { RoomFeed } from './feed.js';
import type { StreamPosition, UnrecoverableReason } from './history.js';
import { RecoveryBase, speaksRecovery, type RecoveryPeer, type SendBody } from './recovery.js';
import type { SharedHistory, StoredRead } from './shared.js';
import { roomBody } from './wire.js';
import type { HistoryLimits } from './history.js';

/** What shared recovery needs from the hub. */
export interface FeedHost<P> {
  /** This node's members of `room`. */
  members(room: string): ReadonlySet<P> | undefined;
  /** Frames `data` once and queues it on every target; returns how many took it. */
  deliver(targets: P[], data: string | Buffer, text: boolean): number;
  /** Queues one body on one peer. */
  send: SendBody<P>;
  log(level: 'debug' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Every room broadcast is appended to the shared history first; the store numbers it and sends it
 * to every node following the room, the publisher included, and each node's RoomFeed delivers the
 * room's messages in offset order: the same order on every node. An offset more than one ahead of
 * the feed is a gap: the feed fills it from the store before going on, or tells its recovery
 * members `unrecoverable` (`gap`). A joining recovery client is admitted to the live feed only after
 * its replay (read from the store), in the feed's queue, so nothing newer overtakes the replay.
 */
export class SharedRecovery<P extends RecoveryPeer> extends RecoveryBase<P> {
  private readonly feeds = new Map<string, RoomFeed<P>>();
  private unrecorded = 0;

  constructor(
    limits: HistoryLimits,
    private readonly history: SharedHistory,
    private readonly host: FeedHost<P>
  ) {
    super(limits, host.send);
  }

  /** `room` got its first member on this node: follow its stream from the position it has now. */
  roomCreated(room: string): void {
    const feed = new RoomFeed<P>(room, err =>
      this.host.log('error', 'recovery: room feed step failed', { room, error: String(err) })
    );
    this.feeds.set(room, feed);
    feed.run(async () => {
      let at: StoredRead;
      try {
        at = await this.history.follow(room);
      } catch {
        return; // the store is away: epoch '' until it is back (transportChanged(true) syncs)
      }
      feed.epoch = at.epoch;
      feed.offset = at.top;
      // Messages published before this node's subscription took effect never arrive live.
      await this.catchUp(feed);
    });
  }

  roomDeleted(room: string): void {
    this.feeds.get(room)?.close();
    this.feeds.delete(room);
  }

  joined(peer: P, room: string): void {
    const feed = this.feeds.get(room);
    if (feed === undefined || !speaksRecovery(peer)) return;
    const from = this.takeResume(peer, room);
    feed.run(() => this.admit(feed, peer, from));
  }

  override left(peer: P, room: string, open: boolean): void {
    const feed = this.feeds.get(room);
    feed?.admitted.delete(peer);
    feed?.told.delete(peer);
    super.left(peer, room, open);
  }

  /**
   * A room broadcast on this node: recorded and sent through the store; local members get it when it
   * comes back in the store's order. Returns the number of local members at the time of the call.
   */
  broadcast(room: string, input: string | Buffer): number {
    const members = this.host.members(room)?.size ?? 0;
    // The caller may reuse its buffer once wsBroadcast() returns; the command is written later.
    const data = typeof input === 'string' ? input : Buffer.from(input);
    if (!this.history.ready()) {
      this.notRecorded(room, data);
      return members;
    }
    this.history.append(room, data).catch(() => this.notRecorded(room, data));
    return members;
  }

  /** A recorded room message from the store (any node's, this one's included). */
  live(room: string, position: StreamPosition, data: Buffer, text: boolean): void {
    const feed = this.feeds.get(room);
    feed?.run(() => this.next(feed, position, data, text));
  }

  /** The store went away (tell recovery members their streams may have holes) or came back (catch up). */
  transportChanged(connected: boolean): void {
    for (const feed of this.feeds.values()) {
      if (connected) {
        feed.run(() => {
          feed.told.clear();
          return this.catchUp(feed);
        });
      } else {
        feed.run(() => this.tellUnavailable(feed));
      }
    }
  }

  /** Room broadcasts are recorded by the store, not on delivery. */
  record(): undefined {
    return undefined;
  }

  stats(): RecoveryStats {
    return {
      store: this.history.store,
      rooms: this.feeds.size,
      messages: 0,
      bytes: 0,
      ...this.counters(),
      unrecorded: this.unrecorded,
    };
  }

  stop(): void {
    for (const feed of this.feeds.values()) feed.close();
    this.feeds.clear();
  }

  private next(feed: RoomFeed<P>, p: StreamPosition, data: Buffer, text: boolean): void | Promise<void> {
    if (p.epoch !== feed.epoch) {
      // The store lost the room's history (restart without persistence, flush) and started anew: say
      // so, then go on from the new epoch's start (a fill below brings what it holds before `p`).
      // A feed that never reached the store (its room was created during an outage) starts here.
      this.tellAll(feed, 'epoch', p.epoch, feed.epoch === '' ? p.offset - 1 : 0);
    }
    if (p.offset <= feed.offset) return; // already delivered (the follow or a fill covered it)
    if (p.offset === feed.offset + 1) return this.emit(feed, p.offset, data, text);
    return this.catchUp(feed, p.offset - 1).then(() => {
      if (p.offset > feed.offset) this.emit(feed, p.offset, data, text);
    });
  }

  /** Delivers what the store has after the feed's offset, up to `to` (default: its newest). */
  private async catchUp(feed: RoomFeed<P>, to?: number, again = true): Promise<void> {
    const limit =
      to === undefined ? this.limits.maxMessages : Math.min(to - feed.offset, this.limits.maxMessages);
    let read: StoredRead;
    try {
      read = await this.history.read(feed.room, feed.offset, limit);
    } catch {
      if (to !== undefined) this.tellAll(feed, 'gap', feed.epoch, to);
      return;
    }
    if (feed.closed) return;
    if (read.epoch !== feed.epoch) {
      // A gap in a lost epoch cannot be filled; a sync that finds a new epoch says so, then delivers
      // the new epoch from its start (what other nodes published in it before this node was back).
      if (to !== undefined || !again) return this.tellAll(feed, 'gap', feed.epoch, to ?? feed.offset);
      // A feed that never reached the store (room created during an outage) starts from the top: its
      // members joined after everything the stream holds that this node could have missed.
      if (feed.epoch === '') return this.tellAll(feed, 'epoch', read.epoch, read.top);
      this.tellAll(feed, 'epoch', read.epoch, 0);
      return this.catchUp(feed, undefined, false);
    }
    const end = to ?? read.top;
    for (const e of read.entries) {
      if (e.offset > end) break;
      if (e.offset <= feed.offset) continue;
      if (e.offset > feed.offset + 1) this.tellAll(feed, 'gap', feed.epoch, e.offset - 1);
      this.emit(feed, e.offset, e.data, e.text);
    }
    if (feed.offset < end) this.tellAll(feed, 'gap', feed.epoch, end);
  }

  /** Sends the message to this node's members: plain ones as is, admitted recovery ones wrapped. */
  private emit(feed: RoomFeed<P>, offset: number, data: Buffer, text: boolean): void {
    feed.offset = offset;
    const members = this.host.members(feed.room);
    if (members === undefined) return;
    const plain: P[] = [];
    const wrapped: P[] = [];
    for (const m of members) {
      if (!speaksRecovery(m)) plain.push(m);
      else if (offset > (feed.admitted.get(m) ?? Infinity)) wrapped.push(m);
    }
    if (plain.length > 0) this.host.deliver(plain, data, text);
    if (wrapped.length > 0) {
      const body = roomBody(feed.room, { epoch: feed.epoch, offset }, data);
      this.host.deliver(wrapped, body, text);
    }
  }

  /** Replays what `peer` missed (read from the store) or says why not, then admits it to the live feed. */
  private async admit(feed: RoomFeed<P>, peer: P, from: StreamPosition | undefined): Promise<void> {
    if (this.host.members(feed.room)?.has(peer) !== true) return; // left or closed meanwhile
    const at = { epoch: feed.epoch, offset: feed.offset };
    const say = (reason: UnrecoverableReason) => this.tell(peer, feed.room, reason, at.epoch, at.offset);
    if (from === undefined) {
      this.notify(peer, { t: 'join', r: feed.room, e: at.epoch, o: at.offset });
    } else if (at.epoch === '') {
      say('unavailable');
    } else if (from.epoch !== at.epoch) {
      say('epoch');
    } else if (from.offset > at.offset) {
      return this.admitAhead(feed, peer, from);
    } else if (at.offset - from.offset > this.limits.maxMessages) {
      say('window');
    } else {
      const missed = at.offset - from.offset;
      let read: StoredRead | undefined;
      if (missed > 0) {
        try {
          read = await this.history.read(feed.room, from.offset, missed);
        } catch {
          read = undefined;
        }
        if (feed.closed || this.host.members(feed.room)?.has(peer) !== true) return;
      }
      const entries = read?.entries.filter(e => e.offset <= at.offset) ?? [];
      if (missed > 0 && read === undefined) say('unavailable');
      else if (read !== undefined && read.epoch !== at.epoch) say('epoch');
      else if (missed > 0 && !complete(entries, from.offset, missed, read!.now - this.limits.windowMs))
        say('window');
      else {
        for (const e of entries)
          this.send(peer, e.text, roomBody(feed.room, { epoch: at.epoch, offset: e.offset }, e.data));
        this.replayed += entries.length;
        this.recovered++;
        this.notify(peer, { t: 'recovered', r: feed.room, e: at.epoch, o: at.offset, n: entries.length });
      }
    }
    feed.admitted.set(peer, at.offset);
  }

  /**
   * The client holds messages this node's feed has not delivered yet (another node gave them to it;
   * they are on their way here). If the store has them, nothing is missed: the client continues from
   * its own position and gets only what comes after it.
   */
  private async admitAhead(feed: RoomFeed<P>, peer: P, from: StreamPosition): Promise<void> {
    const at = { epoch: feed.epoch, offset: feed.offset };
    let read: StoredRead | undefined;
    try {
      read = await this.history.read(feed.room, from.offset, 0);
    } catch {
      read = undefined;
    }
    if (feed.closed || this.host.members(feed.room)?.has(peer) !== true) return;
    if (read === undefined || read.epoch !== from.epoch || read.top < from.offset) {
      this.tell(peer, feed.room, read === undefined ? 'unavailable' : 'epoch', at.epoch, at.offset);
      feed.admitted.set(peer, at.offset);
      return;
    }
    this.recovered++;
    this.notify(peer, { t: 'recovered', r: feed.room, e: from.epoch, o: from.offset, n: 0 });
    feed.admitted.set(peer, from.offset);
  }

  /** A broadcast the store did not take: delivered here only, as a message of no position. */
  private notRecorded(room: string, data: string | Buffer): void {
    this.unrecorded++;
    const feed = this.feeds.get(room);
    feed?.run(() => {
      this.tellUnavailable(feed);
      const members = this.host.members(room);
      if (members === undefined) return;
      const plain: P[] = [];
      const wrapped: P[] = [];
      for (const m of members) (speaksRecovery(m) ? wrapped : plain).push(m);
      const text = typeof data === 'string';
      if (plain.length > 0) this.host.deliver(plain, data, text);
      if (wrapped.length > 0) this.host.deliver(wrapped, this.plain(data), text);
    });
    // The adapter logs the outage loudly once; each lost record is a debug line.
    this.host.log('debug', 'recovery: store unavailable, room broadcast delivered on this node only', {
      room,
    });
  }

  /** Tells every admitted member, once per outage, that messages may be missing from its stream. */
  private tellUnavailable(feed: RoomFeed<P>): void {
    for (const peer of feed.admitted.keys()) {
      if (feed.told.has(peer)) continue;
      feed.told.add(peer);
      this.tell(peer, feed.room, 'unavailable', feed.epoch, feed.offset);
    }
  }

  /** Tells every admitted member the stream cannot be continued, and moves the feed to `(epoch, offset)`. */
  private tellAll(feed: RoomFeed<P>, reason: UnrecoverableReason, epoch: string, offset: number): void {
    feed.epoch = epoch;
    feed.offset = offset;
    for (const peer of feed.admitted.keys()) {
      feed.admitted.set(peer, offset);
      this.tell(peer, feed.room, reason, epoch, offset);
    }
  }

  private tell(peer: P, room: string, reason: UnrecoverableReason, epoch: string, offset: number): void {
    this.unrecoverable++;
    this.notify(peer, { t: 'unrecoverable', r: room, e: epoch, o: offset, reason });
  }
}

/** Whether `entries` are exactly offsets after+1 .. after+count, the first still inside the window. */
function complete(
  entries: { offset: number; at: number }[],
  after: number,
  count: number,
  cutoff: number
): boolean {
  if (entries.length !== count || entries[0].at < cutoff) return false;
  return entries.every((e, i) => e.offset === after + 1 + i);
}
