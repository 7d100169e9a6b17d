// Sums the per-node reports that multi-node adapters collect into one ClusterStats.
import type { ClusterStats, NodeStats } from '../adapter.js';

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
