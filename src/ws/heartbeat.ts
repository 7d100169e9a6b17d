// Heartbeat: one unref'd timer per plugin pings connections that went quiet and drops those that stay silent.
import { encodeControlFrame } from '../protocol/encoder.js';
import { Opcode } from '../protocol/opcodes.js';
import { State } from './connection/lifecycle.js';

/** One empty ping frame written to every connection that is pinged (frames are never modified once queued). */
const PING_FRAME = encodeControlFrame(Opcode.Ping, Buffer.alloc(0));

/** What the heartbeat reads from a connection; it writes nothing to it but the ping frame. */
export interface HeartbeatMember {
  readonly state: number;
  /** Heartbeat tick of the last bytes received (written by the connection on every read). */
  readonly lastSeen: number;
  sendPing(frame: Buffer): void;
  terminate(): void;
}

/** The time base connections stamp `lastSeen` with: sweeps so far, a small integer V8 keeps unboxed. */
export interface HeartbeatClock {
  readonly tick: number;
}

/**
 * Traffic proves liveness: a connection that received anything within the last interval is not pinged.
 * A quiet one gets a ping; if nothing at all arrives within pongTimeoutMs after it, TCP is destroyed
 * (WS_CLOSE_PONG_TIMEOUT, onClose reports 1006). Pings in flight are the heartbeat's own state.
 */
export class Heartbeat<M extends HeartbeatMember = HeartbeatMember> implements HeartbeatClock {
  private timer: NodeJS.Timeout | undefined;
  private readonly connections: ReadonlySet<M>;
  /** Connections pinged and not heard from since, with the tick of the ping. */
  private readonly awaiting = new Map<M, number>();
  private readonly intervalTicks: number;
  private readonly timeoutTicks: number;
  private readonly tickMs: number;
  tick = 1;

  constructor(connections: ReadonlySet<M>, intervalMs: number, pongTimeoutMs: number) {
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

  /** A connection left the plugin. */
  forget(connection: M): void {
    this.awaiting.delete(connection);
  }

  sweep(): void {
    const now = ++this.tick;
    const awaiting = this.awaiting;
    for (const connection of this.connections) {
      if (connection.state !== State.Open) continue;
      const pinged = awaiting.get(connection);
      if (pinged !== undefined) {
        // Heard from since the ping: alive.
        if (connection.lastSeen >= pinged) awaiting.delete(connection);
        else if (now - pinged >= this.timeoutTicks) {
          awaiting.delete(connection);
          connection.terminate();
        }
        continue;
      }
      if (now - connection.lastSeen >= this.intervalTicks) {
        awaiting.set(connection, now);
        connection.sendPing(PING_FRAME);
      }
    }
  }
}
