// Counters, outage logging and node/cluster stats shared by the multi-node adapters (Redis, cluster).
import type { AdapterHost, AdapterStats, ClusterStats, NodeStats } from '../adapter.js';

/** Adds up connections and room sizes over nodes. */
export function sumStats(perNode: NodeStats[]): ClusterStats {
  const rooms: Record<string, number> = {};
  let connections = 0;
  for (const node of perNode) {
    connections += node.connections;
    for (const [room, n] of Object.entries(node.rooms)) rooms[room] = (rooms[room] ?? 0) + n;
  }
  return { nodes: perNode.length, connections, rooms, perNode };
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One adapter's counters and transport health. An outage is logged loudly once, at its first error;
 * later errors of the same outage go to debug, and `healthy()` logs the recovery once.
 */
export class AdapterMeter {
  published = 0;
  received = 0;
  errors = 0;
  lastError: string | undefined;
  host: AdapterHost | undefined;
  private degraded = false;

  constructor(
    /** Prefix of log lines, e.g. `redis adapter`. */
    private readonly label: string,
    readonly nodeId: string,
    /** What a transport error costs, said once per outage. */
    private readonly consequence: string
  ) {}

  /** True after an error and until `healthy()`. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  fail(err: unknown, what: string): void {
    this.errors++;
    this.lastError = `${what}: ${errorMessage(err)}`;
    const fields = { nodeId: this.nodeId, error: this.lastError, errors: this.errors };
    if (this.degraded) {
      this.host?.log('debug', `${this.label}: transport error`, fields);
      return;
    }
    this.degraded = true;
    this.host?.log('error', `${this.label}: transport error; ${this.consequence}`, fields);
  }

  healthy(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.host?.log('info', `${this.label}: connection restored, cross-node delivery resumed`, {
      nodeId: this.nodeId,
    });
  }

  stats(connected: boolean): AdapterStats {
    const s: AdapterStats = {
      published: this.published,
      received: this.received,
      errors: this.errors,
      connected,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /** This node's connections and rooms, under the adapter's node id. */
  nodeStats(): NodeStats {
    const local = this.host?.localStats();
    return { nodeId: this.nodeId, connections: local?.connections ?? 0, rooms: { ...local?.rooms } };
  }
}
