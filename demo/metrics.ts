// Turns the plugin's cumulative counters into per-second rates and Prometheus text for the demo.

/** The subset of `WebSocketPlugin#getStats()` the demo reads. */
export interface WsStats {
  connections: number;
  rooms: number;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  connectionsOpened: number;
  connectionsRefused: Record<string, number>;
  messagesDropped?: number;
  protocolErrors?: number;
  /** messageRate / clientLimits counters. */
  limits?: {
    messagesLimited: number;
    connectionsLimited: number;
    upgradesRefused: Record<string, number>;
    trackedKeys: number;
  };
}

/** One dashboard point: current gauges plus rates over the interval since the previous point. */
export interface StatsSample {
  at: number;
  connections: number;
  rooms: number;
  messagesInPerSec: number;
  messagesOutPerSec: number;
}

/**
 * Keeps the previous reading of the counters so each sample's rate is (delta count) / (delta time).
 * Rates are measured, not counted per message, so the hot send path stays untouched.
 */
export class RateSampler {
  private prev: { at: number; sent: number; received: number } | undefined;
  private readonly samples: StatsSample[] = [];

  constructor(private readonly keep = 60) {}

  /** Records a reading; `rooms` is what the dashboard should show (chat rooms, not internal ones). */
  sample(stats: WsStats, rooms: number, at: number): StatsSample {
    let inRate = 0;
    let outRate = 0;
    if (this.prev && at > this.prev.at) {
      const seconds = (at - this.prev.at) / 1000;
      // A counter that went backwards means the plugin restarted; treat it as a new baseline.
      inRate = Math.max(0, stats.messagesReceived - this.prev.received) / seconds;
      outRate = Math.max(0, stats.messagesSent - this.prev.sent) / seconds;
    }
    this.prev = { at, sent: stats.messagesSent, received: stats.messagesReceived };
    const point: StatsSample = {
      at,
      connections: stats.connections,
      rooms,
      messagesInPerSec: round2(inRate),
      messagesOutPerSec: round2(outRate),
    };
    this.samples.push(point);
    if (this.samples.length > this.keep) this.samples.splice(0, this.samples.length - this.keep);
    return point;
  }

  /** The most recent samples, oldest first, for a page that just connected. */
  history(): StatsSample[] {
    return this.samples.slice();
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Label values are quoted strings in the exposition format; escape backslash, quote and newline. */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Prometheus text exposition format (version 0.0.4) for the plugin's counters. */
export function prometheusText(stats: WsStats): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  };
  metric('websocket_connections_active', 'gauge', 'Open WebSocket connections.', stats.connections);
  metric('websocket_rooms_total', 'gauge', 'Rooms with at least one member.', stats.rooms);
  metric('websocket_messages_sent_total', 'counter', 'Messages sent to peers.', stats.messagesSent);
  metric(
    'websocket_messages_received_total',
    'counter',
    'Messages received from peers.',
    stats.messagesReceived
  );
  metric(
    'websocket_bytes_sent_total',
    'counter',
    'Bytes written to sockets (frames, headers included).',
    stats.bytesSent
  );
  metric('websocket_bytes_received_total', 'counter', 'Bytes read from sockets.', stats.bytesReceived);
  metric(
    'websocket_connections_opened_total',
    'counter',
    'Connections accepted since start.',
    stats.connectionsOpened
  );
  if (stats.messagesDropped !== undefined) {
    metric(
      'websocket_messages_dropped_total',
      'counter',
      'Messages not sent: connection not open or over its backpressure limit.',
      stats.messagesDropped
    );
  }
  if (stats.protocolErrors !== undefined) {
    metric(
      'websocket_protocol_errors_total',
      'counter',
      'Connections closed for protocol errors.',
      stats.protocolErrors
    );
  }
  lines.push(
    '# HELP websocket_connections_refused_total Upgrade requests refused, by reason.',
    '# TYPE websocket_connections_refused_total counter'
  );
  for (const [reason, count] of Object.entries(stats.connectionsRefused)) {
    lines.push(`websocket_connections_refused_total{reason="${labelValue(reason)}"} ${count}`);
  }
  const limits = stats.limits;
  if (limits !== undefined) {
    metric(
      'websocket_messages_limited_total',
      'counter',
      'Messages dropped by messageRate (policy drop).',
      limits.messagesLimited
    );
    metric(
      'websocket_connections_limited_total',
      'counter',
      'Connections closed with 1008 by messageRate (policy close).',
      limits.connectionsLimited
    );
    metric(
      'websocket_client_keys_tracked',
      'gauge',
      'Client keys tracked by clientLimits.',
      limits.trackedKeys
    );
    lines.push(
      '# HELP websocket_upgrades_limited_total Upgrades refused with 429 by clientLimits, by limit.',
      '# TYPE websocket_upgrades_limited_total counter'
    );
    for (const [limit, count] of Object.entries(limits.upgradesRefused)) {
      lines.push(`websocket_upgrades_limited_total{limit="${labelValue(limit)}"} ${count}`);
    }
  }
  return lines.join('\n') + '\n';
}
