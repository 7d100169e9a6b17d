// Heartbeat: one unref'd timer per plugin sweeps all connections; idle -> ping -> deadline -> terminate.
import { ReadyState, type WebSocketConnection } from './connection.js';

/**
 * Time is counted in sweeps (small integers), not milliseconds since 1970: a connection's heartbeat
 * fields then stay small integers that V8 stores inline instead of boxed numbers.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly connections: ReadonlySet<WebSocketConnection>;
  private readonly intervalTicks: number;
  private readonly timeoutTicks: number;
  private readonly tickMs: number;
  /** Sweeps so far; starts at 1 so that 0 can mean "no ping outstanding". */
  private tick = 1;

  constructor(connections: ReadonlySet<WebSocketConnection>, intervalMs: number, pongTimeoutMs: number) {
    this.connections = connections;
    // Sweeping four times per period keeps pings and deadlines within a quarter period of their due time.
    this.tickMs = Math.max(5, Math.floor(Math.min(intervalMs, pongTimeoutMs) / 4));
    this.intervalTicks = intervalMs > 0 ? Math.max(1, Math.round(intervalMs / this.tickMs)) : 0;
    this.timeoutTicks = Math.max(1, Math.ceil(pongTimeoutMs / this.tickMs));
  }

  start(): void {
    if (this.intervalTicks === 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => this.sweep(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A new connection is due for its first ping one interval from now. */
  track(connection: WebSocketConnection): void {
    connection.lastPingTick = this.tick;
  }

  sweep(): void {
    const now = ++this.tick;
    for (const connection of this.connections) {
      if (connection.readyState !== ReadyState.OPEN) continue;
      const outstanding = connection.pingOutstandingTick;
      if (outstanding !== 0 && now - outstanding >= this.timeoutTicks) {
        connection.terminate();
        continue;
      }
      if (now - connection.lastPingTick >= this.intervalTicks) {
        connection.lastPingTick = now;
        if (outstanding === 0) connection.pingOutstandingTick = now;
        connection.ping();
      }
    }
  }
}
