// The contract between the WebSocket plugin and a broadcast adapter (in-process, Redis, node:cluster).
import type { HistoryLimits } from './recovery/history.js';
import type { SharedHistory } from './recovery/shared.js';

/** A message as the application broadcasts it: text is a string, binary a Buffer. */
export type BroadcastData = string | Buffer;

/**
 * What the plugin offers an adapter: delivery of messages that came from other nodes, and local facts.
 * The adapter never delivers this node's own broadcasts: the plugin has done that before `publish`.
 */
export interface AdapterHost {
  /**
   * Delivers a message another node published to the sockets connected to this process: every open
   * socket when `room` is undefined, else the members of `room`. `payload` holds the message bytes as
   * the sender encoded them; `text` says they are a text message (UTF-8, valid when it was sent), which
   * is framed as it is, with no decode and re-encode. Returns the number of sockets it was written to.
   */
  deliverRemote(payload: Buffer, text: boolean, room?: string): number;
  /** Rooms that currently have at least one local member. */
  localRooms(): Iterable<string>;
  /** Connections and room sizes in this process. */
  localStats(): NodeStats;
  /** Structured log line (visible when the plugin's `debug` is on; errors are always printed). */
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /**
   * A room broadcast recorded in the shared history (recovery across nodes), at its position. Every
   * node, the publisher included, gets these in the store's order.
   */
  deliverSequenced?(room: string, epoch: string, offset: number, payload: Buffer, text: boolean): void;
  /** The transport went down (false), or is back with its subscriptions restored (true). */
  transportChanged?(connected: boolean): void;
}

/** One node's connections and rooms, as `clusterStats()` reports it. */
export interface NodeStats {
  /** Adapter-chosen id of this node (process). */
  nodeId: string;
  /** Open WebSocket connections in this process. */
  connections: number;
  /** Room name -> members in this process. */
  rooms: Record<string, number>;
}

/** Connections and rooms summed over every node, with each node's own report. */
export interface ClusterStats {
  /** Number of nodes that answered. */
  nodes: number;
  /** Sum of connections over all nodes. */
  connections: number;
  /** Room name -> members over all nodes. */
  rooms: Record<string, number>;
  /** Each node's own report. */
  perNode: NodeStats[];
}

/** An adapter's traffic and transport health, as `getStats().adapter` shows it. */
export interface AdapterStats {
  /** Messages published to other nodes. */
  published: number;
  /** Messages received from other nodes. */
  received: number;
  /** Errors talking to the transport (Redis, IPC); cross-node delivery of those messages was lost. */
  errors: number;
  /** Last error message, if any. */
  lastError?: string;
  /** Whether the transport is currently usable. */
  connected: boolean;
}

/**
 * A broadcast adapter moves broadcasts between nodes, one way each: `app.wsBroadcast` delivers to
 * the local sockets itself and then hands the message to `publish`; a message from another node
 * comes back in through `host.deliverRemote`. The plugin calls `attach` once at install,
 * `roomCreated`/`roomDeleted` when a room gains its first / loses its last local member, and `close`
 * during `app.close()`.
 */
export interface BroadcastAdapter {
  /** Adapter name shown in stats and logs, e.g. `redis`. */
  readonly name: string;
  /** Called once when the plugin installs: the adapter keeps `host` to deliver other nodes' messages. */
  attach(host: AdapterHost): void;
  /** Forwards a broadcast (already delivered on this node) to the other nodes. Never throws. */
  publish(data: BroadcastData, room?: string): void;
  /** `room` gained its first local member (e.g. subscribe to its channel). */
  roomCreated(room: string): void;
  /** `room` lost its last local member (e.g. unsubscribe from its channel). */
  roomDeleted(room: string): void;
  /** Releases the transport during `app.close()`. */
  close(): Promise<void>;
  /** Traffic counters and transport health. */
  stats(): AdapterStats;
  /** Connections and rooms over every node (a single-node adapter answers with its own). */
  clusterStats(): Promise<ClusterStats>;
  /**
   * A room history every node can read, for `recovery` across nodes; called once, before `attach`.
   * An adapter without it (other than the local one) makes the plugin refuse the `recovery` option.
   */
  history?(limits: HistoryLimits): SharedHistory;
}

/** The default: one process, no transport, no extra cost. */
export class LocalAdapter implements BroadcastAdapter {
  readonly name = 'local';
  private host: AdapterHost | undefined;

  attach(host: AdapterHost): void {
    this.host = host;
  }

  /** There is no other node. */
  publish(): void {}

  roomCreated(): void {}

  roomDeleted(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }

  stats(): AdapterStats {
    return { published: 0, received: 0, errors: 0, connected: true };
  }

  clusterStats(): Promise<ClusterStats> {
    const own = this.host ? this.host.localStats() : { nodeId: 'local', connections: 0, rooms: {} };
    return Promise.resolve({
      nodes: 1,
      connections: own.connections,
      rooms: { ...own.rooms },
      perNode: [own],
    });
  }
}
