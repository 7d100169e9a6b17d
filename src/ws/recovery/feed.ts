// One room's live feed on one node (recovery over a shared history): its position and a serial queue.

/** A step of the feed: synchronous, or a promise the next steps wait for. */
export type FeedStep = () => void | Promise<void>;

/**
 * Everything that touches a room's stream on this node runs here one step at a time, in arrival
 * order: live messages, fills of gaps from the store, replays to joining clients. A step that waits
 * for the store holds the later ones back, so no client sees a newer message of the room before an
 * older one. Steps run synchronously while nothing is waiting (the common, in-order case).
 */
export class RoomFeed<P> {
  /** Epoch of the last message delivered here ('' until the store answered once). */
  epoch = '';
  /** Offset of the last message delivered to this node's members. */
  offset = 0;
  /**
   * Recovery members that got their `join`/`recovered`/`unrecoverable` notice, each with the offset it
   * holds: live messages above it go to them (a client can be ahead of this node's feed when it resumes
   * here with a position another node gave it).
   */
  readonly admitted = new Map<P, number>();
  /** Members already told `unavailable` during the current outage. */
  readonly told = new Set<P>();
  closed = false;
  private readonly queue: FeedStep[] = [];
  private busy = false;

  constructor(
    readonly room: string,
    private readonly onError: (err: unknown) => void
  ) {}

  run(step: FeedStep): void {
    if (this.closed) return;
    if (this.busy || this.queue.length > 0) this.queue.push(step);
    else this.exec(step);
  }

  /** Steps waiting behind an unfinished one. */
  get waiting(): number {
    return this.queue.length;
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.admitted.clear();
    this.told.clear();
  }

  private exec(step: FeedStep): void {
    let result: void | Promise<void>;
    try {
      result = step();
    } catch (err) {
      this.onError(err);
      return;
    }
    if (result === undefined) return;
    this.busy = true;
    result
      .catch(this.onError)
      .finally(() => {
        this.busy = false;
        this.drain();
      })
      .catch(this.onError);
  }

  private drain(): void {
    while (!this.busy && !this.closed && this.queue.length > 0) this.exec(this.queue.shift()!);
  }
}
