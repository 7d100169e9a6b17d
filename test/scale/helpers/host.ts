// A small real AdapterHost for adapter-level tests: records what it delivers, has rooms and stats.
import type { AdapterHost, NodeStats } from '../../../src/ws/adapter.js';

export interface Delivery {
  /** The bytes as the adapter handed them over. */
  payload: Buffer;
  text: boolean;
  /** The message as the application would read it: text decoded, binary as the bytes. */
  data: string | Buffer;
  room: string | undefined;
}

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown> | undefined;
}

export class RecordingHost implements AdapterHost {
  readonly deliveries: Delivery[] = [];
  readonly logs: LogLine[] = [];
  /** Room -> number of (pretend) local members. */
  readonly rooms = new Map<string, number>();

  constructor(
    readonly name: string,
    public connections = 1
  ) {}

  deliverRemote(payload: Buffer, text: boolean, room?: string): number {
    this.deliveries.push({ payload, text, data: text ? payload.toString('utf8') : payload, room });
    return room === undefined ? this.connections : (this.rooms.get(room) ?? 0);
  }

  localRooms(): Iterable<string> {
    return this.rooms.keys();
  }

  localStats(): NodeStats {
    return { nodeId: this.name, connections: this.connections, rooms: Object.fromEntries(this.rooms) };
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    this.logs.push({ level, msg, fields });
  }

  /** Deliveries rendered as comparable strings: `room|t:text` or `room|b:hex`. */
  seen(): string[] {
    return this.deliveries.map(
      d => `${d.room ?? '*'}|${typeof d.data === 'string' ? `t:${d.data}` : `b:${d.data.toString('hex')}`}`
    );
  }

  has(text: string): boolean {
    return this.deliveries.some(d => d.data === text);
  }
}
