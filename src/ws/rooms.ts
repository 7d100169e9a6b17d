// Room membership with a reverse index: O(1) join and leave, empty rooms disappear, only OPEN sockets join.
import { State } from './connection/lifecycle.js';
import { wsError } from './errors.js';
import type { WSConnection, WSRoomManager } from './types.js';

/** A connection's rooms as users see them: a Set that only join()/leave() can change. */
export class RoomSet extends Set<string> {
  override add(_room: string): this {
    throw wsError('WS_ERR_ROOMS_READ_ONLY', 'socket.rooms is read-only: use socket.join(room)');
  }
  override delete(_room: string): boolean {
    throw wsError('WS_ERR_ROOMS_READ_ONLY', 'socket.rooms is read-only: use socket.leave(room)');
  }
  override clear(): void {
    throw wsError('WS_ERR_ROOMS_READ_ONLY', 'socket.rooms is read-only: use socket.leave(room)');
  }
  insert(room: string): void {
    super.add(room);
  }
  remove(room: string): void {
    super.delete(room);
  }
}

/** What the registry needs from a connection. */
export interface RoomMember {
  /** Lifecycle state: only OPEN (1) members may join. */
  readonly state: number;
  readonly rooms: Set<string>;
  ownRooms(): RoomSet;
}

export interface RoomEvents {
  /** A room gained its first member on this node. */
  created(room: string): void;
  /** A room lost its last member on this node. */
  deleted(room: string): void;
  /** A member joined a room (after it is in the member set). */
  joined?(member: RoomMember, room: string): void;
  /** A member left a room (after it is out of the member set). */
  left?(member: RoomMember, room: string): void;
  /** Sends to every member of a room, on every node. */
  broadcast(room: string, data: string | Buffer): void;
  /** The member behind a socket handed to the application, or undefined for a foreign object. */
  resolve(socket: WSConnection): RoomMember | undefined;
}

export class RoomRegistry<M extends RoomMember = RoomMember> implements WSRoomManager {
  private readonly rooms_ = new Map<string, Set<M>>();
  private readonly events: RoomEvents;

  constructor(events: RoomEvents) {
    this.events = events;
  }

  /** `ctx.wsRooms.join(socket, room)`: same rules as `socket.join(room)`. */
  join(socket: WSConnection, room: string): void {
    this.add(this.member(socket), room);
  }

  leave(socket: WSConnection, room: string): void {
    this.remove(this.member(socket), room);
  }

  private member(socket: WSConnection): M {
    const m = this.events.resolve(socket);
    if (m === undefined) throw wsError('WS_ERR_INVALID_ARGUMENT', 'rooms: not a socket of this plugin');
    return m as M;
  }

  /**
   * Adds an OPEN member to `room`. A socket still in wsUse middleware, or closing, or closed, is refused
   * (WS_ERR_NOT_OPEN): a room it joined would never empty, as nothing removes a closed member again.
   */
  add(m: M, room: string): void {
    if (typeof room !== 'string' || room === '')
      throw wsError('WS_ERR_INVALID_ROOM', 'join(): room must be a non-empty string');
    if (m.state !== State.Open)
      throw wsError('WS_ERR_NOT_OPEN', `join(): the socket is not open (readyState ${m.state})`);
    let set = this.rooms_.get(room);
    if (set === undefined) {
      set = new Set();
      this.rooms_.set(room, set);
      this.events.created(room);
    } else if (set.has(m)) {
      return;
    }
    set.add(m);
    m.ownRooms().insert(room);
    this.events.joined?.(m, room);
  }

  remove(m: M, room: string): void {
    const set = this.rooms_.get(room);
    if (set === undefined || !set.delete(m)) return;
    m.ownRooms().remove(room);
    if (set.size === 0) {
      this.rooms_.delete(room);
      this.events.deleted(room);
    }
    this.events.left?.(m, room);
  }

  /** Removes a closing connection from every room it is in. */
  leaveAll(member: M): void {
    if (member.rooms.size === 0) return;
    for (const room of [...member.rooms]) this.remove(member, room);
  }

  /** Local members of `room` (do not modify). */
  members(room: string): ReadonlySet<M> | undefined {
    return this.rooms_.get(room);
  }

  broadcast(room: string, data: string | Buffer): void {
    this.events.broadcast(room, data);
  }

  size(room: string): number {
    return this.rooms_.get(room)?.size ?? 0;
  }

  has(room: string): boolean {
    return this.rooms_.has(room);
  }

  rooms(): string[] {
    return [...this.rooms_.keys()];
  }

  get count(): number {
    return this.rooms_.size;
  }

  /** Room name -> local member count. */
  sizes(): Record<string, number> {
    const out: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const [room, set] of this.rooms_) out[room] = set.size;
    return out;
  }
}
