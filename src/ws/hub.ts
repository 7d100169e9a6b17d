// The plugin's shared state: open connections, routes, rooms, counters, broadcast and shutdown.
import { Router } from '../core/router.js';
import { encodeFrame, encodeTextFrame } from '../protocol/encoder.js';
import { Opcode } from '../protocol/opcodes.js';
import {
  LocalAdapter,
  type AdapterHost,
  type BroadcastAdapter,
  type BroadcastData,
  type NodeStats,
} from './adapter.js';
import type { Connection } from './connection/connection.js';
import { State } from './connection/lifecycle.js';
import { frameSize, ownPayload } from './connection/send-queue.js';
import { connectionOf } from './connection/socket.js';
import { DeflateContext } from './deflate/context.js';
import { deliverCompressible } from './deflate/shared.js';
import { wsError, WsCloses } from './errors.js';
import { Heartbeat, type HeartbeatClock } from './heartbeat.js';
import type { ConnectionHost, Counters } from './host.js';
import { ClientGate } from './limits/client-gate.js';
import { MessageRate } from './limits/message-rate.js';
import type { LimitStats } from './limits/types.js';
import { createLogger, type Logger } from './log.js';
import type { PluginSettings } from './options.js';
import type { HistoryLimits } from './recovery/history.js';
import { Recovery, speaksRecovery } from './recovery/recovery.js';
import { SharedRecovery } from './recovery/shared-recovery.js';
import { RoomRegistry } from './rooms.js';
import type { RefusalReason, WebSocketStats, WSHandler, WSMiddleware } from './types.js';

export class WebSocketHub implements ConnectionHost, AdapterHost {
  readonly options: PluginSettings;
  readonly stats: Counters = {
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesDropped: 0,
    protocolErrors: 0,
  };
  /** OPEN (and then CLOSING) connections: the broadcast set. */
  readonly connections = new Set<Connection>();
  /** PENDING connections: wsUse middleware runs; no broadcast reaches them. */
  readonly pending = new Set<Connection>();
  readonly rooms: RoomRegistry<Connection>;
  readonly routes = new Router<WSHandler>();
  /** Patterns of the `path` option: declared upgrade paths (a route is needed to serve them). */
  readonly declaredPaths = new Router<true>();
  readonly middleware: WSMiddleware[] = [];
  readonly adapter: BroadcastAdapter;
  readonly heartbeat: Heartbeat<Connection>;
  /** The heartbeat's time base (connections stamp `lastSeen` with it on every read). */
  readonly clock: HeartbeatClock;
  readonly log: Logger;
  readonly deflate: DeflateContext | undefined;
  readonly messageRate: MessageRate | undefined;
  /** The `clientLimits` check of the upgrade path, when the option is on. */
  readonly clientGate: ClientGate | undefined;
  /** Recovery with the history in memory (LocalAdapter) or shared through the adapter (Redis). */
  readonly recovery: Recovery<Connection> | SharedRecovery<Connection> | undefined;
  readonly refused: Record<RefusalReason, number> = {
    path: 0,
    handshake: 0,
    origin: 0,
    limit: 0,
    verify: 0,
    timeout: 0,
    closing: 0,
    error: 0,
    clientLimit: 0,
  };
  connectionsOpened = 0;
  /** Live (pending or open) connections carried by HTTP/2 streams, and how many were opened. */
  private http2Live = 0;
  private http2Opened = 0;
  /** Upgrades between their first check and the 101: they count against maxConnections. */
  pendingUpgrades = 0;
  closing = false;
  private readonly nodeId = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private shutdownPromise: Promise<void> | undefined;
  private allClosed: (() => void) | undefined;

  constructor(options: PluginSettings) {
    this.options = options;
    this.log = createLogger(options.debug);
    this.deflate = options.perMessageDeflate && new DeflateContext(options.perMessageDeflate);
    this.messageRate = options.messageRate && new MessageRate(options.messageRate, this.log);
    this.clientGate = options.clientLimits && new ClientGate(options.clientLimits, this.log);
    this.adapter = options.adapter ?? new LocalAdapter();
    const recovery = options.recovery && this.createRecovery(options.recovery);
    this.recovery = recovery;
    const shared = recovery instanceof SharedRecovery ? recovery : undefined;
    this.rooms = new RoomRegistry<Connection>({
      created: room => {
        this.adapter.roomCreated(room);
        shared?.roomCreated(room);
      },
      deleted: room => {
        this.adapter.roomDeleted(room);
        shared?.roomDeleted(room);
      },
      broadcast: (room, data) => this.broadcast(data, room),
      resolve: connectionOf,
      ...(recovery && {
        joined: (member: Connection, room: string) => {
          if (speaksRecovery(member)) recovery.joined(member, room);
        },
        left: (member: Connection, room: string) => {
          if (speaksRecovery(member)) recovery.left(member, room, member.state === State.Open);
        },
      }),
    });
    for (const pattern of options.paths) this.declaredPaths.add(pattern, true);
    this.heartbeat = new Heartbeat(this.connections, options.heartbeatMs, options.pongTimeoutMs);
    this.clock = this.heartbeat;
    this.adapter.attach(this);
  }

  /** The history in memory with the LocalAdapter, in the adapter's shared store otherwise (Redis). */
  private createRecovery(limits: HistoryLimits): Recovery<Connection> | SharedRecovery<Connection> {
    const send = (peer: Connection, text: boolean, body: Buffer | string) => this.sendTo(peer, text, body);
    if (this.adapter.name === 'local') return new Recovery<Connection>(limits, send);
    if (this.adapter.history === undefined) {
      throw wsError(
        'WS_ERR_INVALID_OPTION',
        `recovery is not supported with the ${this.adapter.name} adapter (it has no shared history; use RedisAdapter)`
      );
    }
    return new SharedRecovery<Connection>(limits, this.adapter.history(limits), {
      members: room => this.rooms.members(room),
      deliver: (targets, data, text) => this.deliverTo(targets, data, text),
      send,
      log: this.log,
    });
  }

  /** Connections that count against maxConnections: PENDING, OPEN and CLOSING ones. */
  get liveConnections(): number {
    return this.connections.size + this.pending.size;
  }

  connectionCreated(connection: Connection): void {
    this.pending.add(connection);
    this.connectionsOpened++;
    if (connection.httpVersion === '2.0') {
      this.http2Live++;
      this.http2Opened++;
    }
  }

  connectionOpened(connection: Connection): void {
    this.pending.delete(connection);
    this.connections.add(connection);
    if (this.recovery !== undefined && speaksRecovery(connection)) this.recovery.opened(connection);
  }

  connectionClosed(connection: Connection): void {
    if (!this.pending.delete(connection)) {
      this.connections.delete(connection);
      this.rooms.leaveAll(connection);
      this.heartbeat.forget(connection);
    }
    if (connection.httpVersion === '2.0') this.http2Live--;
    if (this.liveConnections === 0 && this.allClosed !== undefined) this.allClosed();
  }

  /** `app.wsBroadcast`: deliver to this node's sockets, then hand the message to the adapter for the others. */
  broadcast(data: BroadcastData, room?: string): number {
    if (typeof data !== 'string' && !Buffer.isBuffer(data)) {
      throw wsError('WS_ERR_INVALID_ARGUMENT', 'wsBroadcast(): data must be a string or a Buffer');
    }
    // Recovery over Redis: the store numbers the message and every node (this one too) delivers it.
    if (room !== undefined && this.recovery instanceof SharedRecovery)
      return this.recovery.broadcast(room, data);
    const delivered = this.deliver(data, typeof data === 'string', room);
    this.adapter.publish(data, room);
    return delivered;
  }

  /** A message from another node: text arrives as the sender's UTF-8 bytes and is framed as it is. */
  deliverRemote(payload: Buffer, text: boolean, room?: string): number {
    return this.deliver(payload, text, room);
  }

  /** A recorded room message from the shared history, in the store's order (recovery over Redis). */
  deliverSequenced(room: string, epoch: string, offset: number, payload: Buffer, text: boolean): void {
    if (this.recovery instanceof SharedRecovery) this.recovery.live(room, { epoch, offset }, payload, text);
  }

  /** The adapter's transport went down or came back. */
  transportChanged(connected: boolean): void {
    if (this.recovery instanceof SharedRecovery) this.recovery.transportChanged(connected);
  }

  /**
   * Frames the message once per wire format (plain, and nextrush.v1 when recovery is on) and queues the
   * same bytes for every local OPEN recipient (a connection closing, e.g. while its onClose handlers
   * run, is skipped). Binary data up to 64 KiB is copied once when it may wait for compression, so the
   * caller may reuse its buffer when wsBroadcast() returns (encodeFrame copies it otherwise).
   */
  private deliver(data: BroadcastData, text: boolean, room: string | undefined): number {
    const targets = room === undefined ? this.connections : this.rooms.members(room);
    const recovery = this.recovery;
    if (recovery !== undefined) {
      // Recorded even with no member here: the members that matter are the ones who are away.
      // With a shared history the store recorded it already (record() is then undefined).
      const body = room === undefined ? undefined : recovery.record(room, data, text);
      if (targets === undefined || targets.size === 0) return 0;
      const [plain, wrapped] = partition(targets);
      if (wrapped.length === 0) return this.deliverTo(plain, data, text);
      return this.deliverTo(plain, data, text) + this.deliverTo(wrapped, body ?? recovery.plain(data), text);
    }
    if (targets === undefined || targets.size === 0) return 0;
    return this.deliverTo(targets, data, text);
  }

  private deliverTo(targets: Iterable<Connection>, data: BroadcastData, text: boolean): number {
    if (this.deflate !== undefined) {
      const owned = typeof data === 'string' ? data : ownPayload(data);
      return deliverCompressible(this.deflate, owned, text, targets);
    }
    const frame =
      typeof data === 'string'
        ? encodeTextFrame(data)
        : encodeFrame(text ? Opcode.Text : Opcode.Binary, data);
    // Measured once for every recipient; each queue then only checks its own backlog.
    const size = frameSize(frame);
    let delivered = 0;
    for (const connection of targets) {
      if (connection.state === State.Open && connection.queue.sendShared(frame, size)) delivered++;
    }
    return delivered;
  }

  /** One message to one connection, through its compression when it has some (recovery replays). */
  private sendTo(connection: Connection, text: boolean, body: Buffer | string): void {
    this.deliverTo([connection], body, text);
  }

  localRooms(): Iterable<string> {
    return this.rooms.rooms();
  }

  localStats(): NodeStats {
    return { nodeId: this.nodeId, connections: this.liveConnections, rooms: this.rooms.sizes() };
  }

  refuse(reason: RefusalReason): void {
    this.refused[reason]++;
  }

  getStats(): WebSocketStats {
    const s = this.stats;
    return {
      connections: this.liveConnections,
      rooms: this.rooms.count,
      messagesSent: s.messagesSent,
      messagesReceived: s.messagesReceived,
      bytesSent: s.bytesSent,
      bytesReceived: s.bytesReceived,
      messagesDropped: s.messagesDropped,
      connectionsOpened: this.connectionsOpened,
      http2: { connections: this.http2Live, connectionsOpened: this.http2Opened },
      connectionsRefused: { ...this.refused },
      protocolErrors: s.protocolErrors,
      adapter: this.adapter.stats(),
      ...(this.deflate && { compression: this.deflate.snapshot() }),
      limits: this.limitStats(),
      ...(this.recovery && { recovery: this.recovery.stats() }),
    };
  }

  private limitStats(): LimitStats {
    const rate = this.messageRate;
    const gate = this.clientGate;
    return {
      messagesLimited: rate?.messagesLimited ?? 0,
      connectionsLimited: rate?.connectionsLimited ?? 0,
      upgradesRefused: gate ? { ...gate.refused } : { maxConnections: 0, upgradesPerMinute: 0 },
      trackedKeys: gate?.trackedKeys ?? 0,
    };
  }

  /**
   * Graceful shutdown: refuse new upgrades (503), send every peer 1001, wait for the closing
   * handshakes (each connection destroys itself after closeTimeoutMs), stop timers, close the adapter.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.runShutdown();
    return this.shutdownPromise;
  }

  private async runShutdown(): Promise<void> {
    this.closing = true;
    this.heartbeat.stop();
    this.recovery?.stop();
    if (this.liveConnections > 0) {
      const done = new Promise<void>(resolve => (this.allClosed = resolve));
      const { close, reason } = WsCloses.WS_CLOSE_SHUTDOWN;
      for (const connection of [...this.pending, ...this.connections]) connection.close(close, reason);
      // Safety net in case a socket never reports 'close' after being destroyed.
      const guard = setTimeout(() => {
        for (const connection of [...this.pending, ...this.connections]) connection.terminate();
      }, this.options.closeTimeoutMs + 1000);
      guard.unref();
      await done;
      clearTimeout(guard);
      this.allClosed = undefined;
    }
    await this.adapter.close();
  }
}

/** Splits recipients into plain WebSocket clients and nextrush.v1 clients. */
function partition(targets: Iterable<Connection>): [Connection[], Connection[]] {
  const plain: Connection[] = [];
  const wrapped: Connection[] = [];
  for (const c of targets) (speaksRecovery(c) ? wrapped : plain).push(c);
  return [plain, wrapped];
}
