// Heartbeat: one unref'd timer per plugin sweeps all connections; idle -> ping -> deadline -> terminate.
import { ReadyState, type WebSocketConnection } from './connection.js';

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly connections: ReadonlySet<WebSocketConnection>;
  private readonly intervalMs: number;
  private readonly pongTimeoutMs: number;

  constructor(connections: ReadonlySet<WebSocketConnection>, intervalMs: number, pongTimeoutMs: number) {
    this.connections = connections;
    this.intervalMs = intervalMs;
    this.pongTimeoutMs = pongTimeoutMs;
  }

  start(): void {
    if (this.intervalMs <= 0 || this.timer !== undefined) return;
    // Sweeping four times per period keeps pings and deadlines within a quarter period of their due time.
    const tick = Math.max(5, Math.floor(Math.min(this.intervalMs, this.pongTimeoutMs) / 4));
    this.timer = setInterval(() => this.sweep(Date.now()), tick);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new connection is due for its first ping one interval from now. */
  track(connection: WebSocketConnection, now: number): void {
    connection.lastPingAt = now;
  }

  sweep(now: number): void {
    for (const connection of this.connections) {
      if (connection.readyState !== ReadyState.OPEN) continue;
      const outstanding = connection.pingOutstandingSince;
      if (outstanding !== 0 && now - outstanding >= this.pongTimeoutMs) {
        connection.terminate();
        continue;
      }
      if (now - connection.lastPingAt >= this.intervalMs) {
        connection.lastPingAt = now;
        if (outstanding === 0) connection.pingOutstandingSince = now;
        connection.ping();
      }
    }
  }
}
