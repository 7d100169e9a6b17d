// What recovery needs from a history every node shares (RedisAdapter keeps it in Redis Streams).

/** One message as the shared history holds it. */
export interface StoredEntry {
  /** Its offset in the room's stream. */
  offset: number;
  /** A text message (UTF-8 bytes in `data`) rather than binary. */
  text: boolean;
  /** The message bytes. */
  data: Buffer;
  /** When it was appended, ms, by the store's clock. */
  at: number;
}

/** A room's position in the shared history, and the entries after the offset that was asked for. */
export interface StoredRead {
  /** The room's epoch now (a new one is created when the store has none: its history was lost). */
  epoch: string;
  /** Offset of the room's newest message. */
  top: number;
  /** The store's clock, ms (entries older than `now - windowMs` are outside the window). */
  now: number;
  /** Entries with offset > `after`, in order, at most `limit`; trimmed ones are simply absent. */
  entries: StoredEntry[];
}

/**
 * A room history shared by every node. Offsets are assigned by the store, and appended messages come
 * back to every node that follows the room (host.deliverSequenced) in the store's order.
 */
export interface SharedHistory {
  /** Where the history lives, for getStats().recovery.store. */
  readonly store: 'redis';
  /** Whether the store can be written now; when false a broadcast is not recorded. */
  ready(): boolean;
  /**
   * This node starts following `room`: resolves with the room's position as it was when `follow` was
   * called (before any later append of this node), once the room's live messages reach this node.
   */
  follow(room: string): Promise<StoredRead>;
  /** Entries of `room` after `after`, at most `limit`. Rejects when the store does not answer. */
  read(room: string, after: number, limit: number): Promise<StoredRead>;
  /** Records a room broadcast and sends it to every node; rejects if it was not recorded. */
  append(room: string, data: string | Buffer): Promise<void>;
}
