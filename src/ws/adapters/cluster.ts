// Scales wsBroadcast over one machine's cores: node:cluster workers relay broadcasts through the primary.
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type {
  AdapterHost,
  AdapterStats,
  BroadcastAdapter,
  BroadcastData,
  ClusterStats,
  NodeStats,
} from '../adapter.js';
import { AdapterMeter, sumStats } from './stats.js';

/*
 * IPC messages carry this tag so the adapter never mistakes the application's own worker messages
 * for its own, and the other way round. Under the 'advanced' serialization (structured clone) a
 * Buffer crosses IPC as bytes, text included (UTF-8, so receivers frame it without decoding); under
 * the default JSON one a Buffer would become an array of numbers, so in that case text travels as a
 * string, binary as base64, and the worker logs how to avoid it.
 */
const TAG = 'nextrush:ws-cluster';
/**
 * Node removes NODE_CHANNEL_SERIALIZATION_MODE from a child's environment once it has read it, so
 * `setupPrimary()` leaves its own mark in the environment that `cluster.fork()` passes to workers.
 */
const IPC_MODE_ENV = 'NEXTRUSH_WS_CLUSTER_IPC';

type Wire =
  | { tag: typeof TAG; op: 'broadcast'; room?: string; data: string | Uint8Array; text: boolean; b64?: true }
  | { tag: typeof TAG; op: 'join' | 'leave'; room: string }
  /** worker -> primary: "collect everyone's stats for me"; primary -> worker: "report yours". */
  | { tag: typeof TAG; op: 'collect' | 'report?'; id: number }
  | { tag: typeof TAG; op: 'report'; id: number; stats: NodeStats }
  | { tag: typeof TAG; op: 'result'; id: number; perNode: NodeStats[] };

function isWire(msg: unknown): msg is Wire {
  return typeof msg === 'object' && msg !== null && (msg as { tag?: unknown }).tag === TAG;
}

/** Options of `ClusterAdapter.setupPrimary()`. */
export interface ClusterPrimaryOptions {
  /** How long the primary waits for workers' stats, ms (default 1000). */
  statsTimeoutMs?: number;
}

/** The relay running in the primary process, as `ClusterAdapter.setupPrimary()` returns it. */
export interface ClusterPrimary {
  /** Stops relaying (the workers keep their local delivery). */
  close(): void;
}

let primary: ClusterPrimary | undefined;

/** Options of `new ClusterAdapter()` in a worker. */
export interface ClusterAdapterOptions {
  /** How long `clusterStats()` waits for the primary's answer, ms (default 2000). */
  statsTimeoutMs?: number;
}

/**
 * Broadcast adapter for node:cluster. In each worker, `new ClusterAdapter()` goes to the plugin;
 * in the primary, `ClusterAdapter.setupPrimary()` runs once before the first `cluster.fork()`.
 * IPC keeps each channel's order, so one worker's broadcasts reach the others in the order sent.
 */
export class ClusterAdapter implements BroadcastAdapter {
  readonly name = 'cluster';
  /** This process's id in stats: `worker-<id>` in a cluster worker, else `pid-<pid>`. */
  readonly nodeId: string;
  private host: AdapterHost | undefined;
  private readonly statsTimeoutMs: number;
  private readonly waiting = new Map<number, (perNode: NodeStats[] | undefined) => void>();
  private requestSeq = 0;
  private readonly meter: AdapterMeter;
  private base64 = false;
  private closed = false;
  private readonly onMessage = (msg: unknown) => this.handle(msg);

  /** Installs the relay in the primary process; call before forking. Idempotent. */
  static setupPrimary(options: ClusterPrimaryOptions = {}): ClusterPrimary {
    if (primary) return primary;
    if (!cluster.isPrimary) throw new Error('ClusterAdapter.setupPrimary() must run in the primary process');
    cluster.setupPrimary({ serialization: 'advanced' });
    process.env[IPC_MODE_ENV] = 'advanced';
    primary = relay(options.statsTimeoutMs ?? 1000);
    return primary;
  }

  constructor(options: ClusterAdapterOptions = {}) {
    this.statsTimeoutMs = options.statsTimeoutMs ?? 2000;
    this.nodeId = cluster.isWorker && cluster.worker ? `worker-${cluster.worker.id}` : `pid-${process.pid}`;
    this.meter = new AdapterMeter('cluster adapter', this.nodeId, 'other workers miss messages');
  }

  attach(host: AdapterHost): void {
    if (this.host) throw new Error('ClusterAdapter is already attached');
    this.host = host;
    this.meter.host = host;
    if (!this.linked()) {
      host.log('warn', 'cluster adapter: not a cluster worker; broadcasts stay in this process');
      return;
    }
    this.base64 = process.env[IPC_MODE_ENV] !== 'advanced';
    if (this.base64) {
      host.log('warn', 'cluster adapter: JSON IPC; call ClusterAdapter.setupPrimary() before cluster.fork()');
    }
    process.on('message', this.onMessage);
    for (const room of host.localRooms()) this.send({ tag: TAG, op: 'join', room });
  }

  publish(data: BroadcastData, room?: string): void {
    if (this.closed || !this.linked()) return;
    const text = typeof data === 'string';
    const msg: Wire = { tag: TAG, op: 'broadcast', data, text };
    if (room !== undefined) msg.room = room;
    if (!this.base64) {
      if (text) msg.data = Buffer.from(data);
    } else if (!text) {
      msg.data = data.toString('base64');
      msg.b64 = true;
    }
    if (this.send(msg)) this.meter.published++;
  }

  roomCreated(room: string): void {
    if (!this.closed && this.linked()) this.send({ tag: TAG, op: 'join', room });
  }

  roomDeleted(room: string): void {
    if (!this.closed && this.linked()) this.send({ tag: TAG, op: 'leave', room });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      // Removing the listener lets the IPC channel stop holding the worker's event loop open.
      process.off('message', this.onMessage);
      for (const resolve of this.waiting.values()) resolve(undefined);
    }
    return Promise.resolve();
  }

  stats(): AdapterStats {
    return this.meter.stats(!this.closed && this.linked() && process.connected === true);
  }

  clusterStats(): Promise<ClusterStats> {
    const own = this.ownStats();
    if (this.closed || !this.linked()) return Promise.resolve(sumStats([own]));
    const id = ++this.requestSeq;
    return new Promise(resolve => {
      const done = (perNode: NodeStats[] | undefined) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        // The primary's list holds this worker's report too; fall back to our own figures alone.
        resolve(sumStats(perNode && perNode.length > 0 ? perNode : [own]));
      };
      const timer = setTimeout(() => done(undefined), this.statsTimeoutMs);
      this.waiting.set(id, done);
      if (!this.send({ tag: TAG, op: 'collect', id })) done(undefined);
    });
  }

  private linked(): boolean {
    return cluster.isWorker && typeof process.send === 'function';
  }

  private ownStats(): NodeStats {
    return this.meter.nodeStats();
  }

  private handle(msg: unknown): void {
    if (!isWire(msg) || this.closed) return;
    switch (msg.op) {
      case 'broadcast': {
        this.meter.received++;
        let payload: Buffer;
        if (typeof msg.data === 'string') payload = Buffer.from(msg.data, msg.b64 ? 'base64' : 'utf8');
        else
          payload = Buffer.isBuffer(msg.data)
            ? msg.data
            : Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
        this.host?.deliverRemote(payload, msg.text, msg.room);
        return;
      }
      case 'report?':
        this.send({ tag: TAG, op: 'report', id: msg.id, stats: this.ownStats() });
        return;
      case 'result':
        this.waiting.get(msg.id)?.(msg.perNode);
        return;
    }
  }

  private send(msg: Wire): boolean {
    if (!process.connected || !process.send) {
      this.fail(new Error('IPC channel to the primary is closed'));
      return false;
    }
    // With a callback, a failed send is reported here instead of as an 'error' event on process.
    process.send(msg, undefined, {}, (err: Error | null) => {
      if (err) this.fail(err);
      else this.meter.healthy();
    });
    return true;
  }

  private fail(err: Error): void {
    this.meter.fail(err, 'IPC');
  }
}

/** The primary's side: fans broadcasts out to the other workers and gathers stats. */
function relay(statsTimeoutMs: number): ClusterPrimary {
  const rooms = new Map<number, Set<string>>();
  let collectSeq = 0;
  const collecting = new Map<number, (stats: NodeStats) => void>();

  const workers = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());

  const send = (w: Worker, msg: Wire) => {
    w.send(msg, undefined, (err: Error | null) => {
      // The worker is going away; its own 'exit' handling belongs to the application.
      if (err) rooms.delete(w.id);
    });
  };

  const onMessage = (from: Worker, msg: unknown) => {
    if (!isWire(msg)) return;
    switch (msg.op) {
      case 'broadcast':
        for (const w of workers()) {
          if (w.id === from.id) continue;
          if (msg.room === undefined || rooms.get(w.id)?.has(msg.room)) send(w, msg);
        }
        return;
      case 'join': {
        let set = rooms.get(from.id);
        if (!set) rooms.set(from.id, (set = new Set()));
        set.add(msg.room);
        return;
      }
      case 'leave':
        rooms.get(from.id)?.delete(msg.room);
        return;
      case 'collect': {
        const id = ++collectSeq;
        const targets = workers();
        const perNode: NodeStats[] = [];
        const finish = () => {
          clearTimeout(timer);
          collecting.delete(id);
          if (from.isConnected()) send(from, { tag: TAG, op: 'result', id: msg.id, perNode });
        };
        const timer = setTimeout(finish, statsTimeoutMs);
        collecting.set(id, stats => {
          perNode.push(stats);
          if (perNode.length >= targets.length) finish();
        });
        for (const w of targets) send(w, { tag: TAG, op: 'report?', id });
        if (targets.length === 0) finish();
        return;
      }
      case 'report':
        collecting.get(msg.id)?.(msg.stats);
        return;
    }
  };
  const onExit = (w: Worker) => rooms.delete(w.id);

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return {
    close() {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      primary = undefined;
    },
  };
}
