// A small real AdapterHost for adapter-level tests: records what it delivers, has rooms and stats.
import type { AdapterHost, BroadcastData, NodeStats } from '../../../src/ws/adapter.js';

export interface Delivery {
  data: BroadcastData;
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

  deliverLocal(data: BroadcastData, room?: string): number {
    this.deliveries.push({ data, room });
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
