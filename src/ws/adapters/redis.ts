// Scales wsBroadcast over processes and machines through Redis pub/sub, with clients the user brings.
import { randomBytes } from 'node:crypto';
import type {
  AdapterHost,
  AdapterStats,
  BroadcastAdapter,
  BroadcastData,
  ClusterStats,
  NodeStats,
} from '../adapter.js';
import type { HistoryLimits } from '../recovery/history.js';
import type { SharedHistory } from '../recovery/shared.js';
import { decode, decodeSequenced, encode, encodeBroadcast, Kind } from './envelope.js';
import { RedisHistory } from './redis-history.js';
import { AdapterMeter, errorMessage, sumStats } from './stats.js';
import type { Envelope } from './envelope.js';

/*
 * The package depends on neither `redis` nor `ioredis`: these structural types name only what the
 * adapter calls, and both official clients satisfy one of them as they are.
 */
type BufferListener = (message: Buffer, channel: Buffer) => unknown;
// `any` here matches EventEmitter's own listener type, which both clients expose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type EventListener = (...args: any[]) => void;

/** What the adapter uses of a node-redis (v4 or later) client, as made by `createClient()`. */
export interface NodeRedisClientLike {
  /** True while the client is connected and ready for commands. */
  readonly isReady: boolean;
  /** PUBLISH a binary message to `channel`. */
  publish(channel: string, message: Buffer): Promise<unknown>;
  /** SUBSCRIBE to `channels`, receiving messages as Buffers. */
  subscribe(channels: string[], listener: BufferListener, bufferMode: true): Promise<unknown>;
  /** UNSUBSCRIBE from `channels`. */
  unsubscribe(channels: string[], listener: BufferListener, bufferMode: true): Promise<unknown>;
  /**
   * Any command (recovery: EVALSHA, SCRIPT LOAD on the `pub` connection); the adapter asks for bulk
   * replies as Buffers with `typeMapping` (node-redis v5).
   */
  sendCommand(
    args: readonly (string | Buffer)[],
    options?: { typeMapping?: Record<number, unknown> }
  ): Promise<unknown>;
  /** Listens to client events (`ready`, `error`). */
  on(event: string, listener: EventListener): unknown;
  /** Removes a listener added with `on`. */
  off(event: string, listener: EventListener): unknown;
}

/** What the adapter uses of an ioredis client, as made by `new Redis()`. */
export interface IoRedisClientLike {
  /** Connection state; `ready` when commands can be sent. */
  readonly status: string;
  /** PUBLISH a binary message to `channel`. */
  publish(channel: string, message: Buffer): Promise<unknown>;
  /** SUBSCRIBE to `channels` (messages arrive as `messageBuffer` events). */
  subscribe(...channels: string[]): Promise<unknown>;
  /** UNSUBSCRIBE from `channels`. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Any command with bulk replies as Buffers (recovery: EVALSHA, SCRIPT LOAD on the `pub` connection). */
  callBuffer(command: string, ...args: (string | Buffer)[]): Promise<unknown>;
  /** Listens to client events (`ready`, `error`, `messageBuffer`). */
  on(event: string, listener: EventListener): unknown;
  /** Removes a listener added with `on`. */
  off(event: string, listener: EventListener): unknown;
}

/** A node-redis or an ioredis client; the adapter tells them apart at run time. */
export type RedisClientLike = NodeRedisClientLike | IoRedisClientLike;

/** Options of `new RedisAdapter()`: two client connections, channel prefix, node id, stats timeout. */
export interface RedisAdapterOptions {
  /** Connection used for PUBLISH. */
  pub: RedisClientLike;
  /** A second connection, used only for SUBSCRIBE (a subscribed connection cannot publish in RESP2). */
  sub: RedisClientLike;
  /** Channel prefix shared by every node of one application (default `nextrush:ws`). */
  prefix?: string;
  /** This node's id in envelopes and stats (default: random). */
  nodeId?: string;
  /** How long `clusterStats()` waits for other nodes' answers, ms (default 1000). */
  statsTimeoutMs?: number;
}

/** The two client families behind one small interface, so the adapter logic exists once. */
interface Connection {
  ready(): boolean;
  publish(channel: string, message: Buffer): Promise<number>;
  subscribe(channels: string[]): Promise<unknown>;
  unsubscribe(channels: string[]): Promise<unknown>;
  /** Any command; bulk replies as Buffers. */
  command(args: (string | Buffer)[]): Promise<unknown>;
  /**
   * Subscribes to client events; returns the function that removes the listeners again. `onDown`
   * hears the connection closing or reconnecting.
   */
  watch(onReady: () => void, onError: (err: unknown) => void, onDown: () => void): () => void;
}

/** node-redis RESP type id of bulk strings: mapped to Buffer so binary history survives. */
const BLOB_STRING = 36;

function isIoRedis(client: RedisClientLike): client is IoRedisClientLike {
  return typeof (client as Partial<IoRedisClientLike>).status === 'string';
}

function listen(client: RedisClientLike, event: string, fn: EventListener): () => void {
  client.on(event, fn);
  return () => void client.off(event, fn);
}

function wrap(client: RedisClientLike, onMessage: (message: Buffer) => void): Connection {
  if (isIoRedis(client)) {
    return {
      ready: () => client.status === 'ready',
      publish: async (ch, msg) => Number(await client.publish(ch, msg)),
      subscribe: chs => client.subscribe(...chs),
      unsubscribe: chs => client.unsubscribe(...chs),
      command: ([name, ...args]) => client.callBuffer(name as string, ...args),
      watch(onReady, onError, onDown) {
        // ioredis has one message event per connection for every channel; ours are told apart by
        // the envelope, foreign messages fail to decode and are dropped.
        const offs = [
          listen(client, 'messageBuffer', (_channel: Buffer, message: Buffer) => onMessage(message)),
          listen(client, 'ready', onReady),
          listen(client, 'error', onError),
          listen(client, 'close', onDown),
          listen(client, 'reconnecting', onDown),
        ];
        return () => offs.forEach(off => off());
      },
    };
  }
  // node-redis calls a listener per channel; one shared function keeps its listener sets at size one.
  const listener: BufferListener = message => onMessage(message);
  return {
    ready: () => client.isReady,
    publish: async (ch, msg) => Number(await client.publish(ch, msg)),
    subscribe: chs => client.subscribe(chs, listener, true),
    unsubscribe: chs => client.unsubscribe(chs, listener, true),
    command: args => client.sendCommand(args, { typeMapping: { [BLOB_STRING]: Buffer } }),
    watch(onReady, onError, onDown) {
      const offs = [
        listen(client, 'ready', onReady),
        listen(client, 'error', onError),
        listen(client, 'end', onDown),
        listen(client, 'reconnecting', onDown),
      ];
      return () => offs.forEach(off => off());
    },
  };
}

interface StatsCollector {
  add(stats: NodeStats): void;
  finish(): void;
}

function isNodeStats(v: unknown): v is NodeStats {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.nodeId === 'string' &&
    typeof o.connections === 'number' &&
    typeof o.rooms === 'object' &&
    o.rooms !== null &&
    Object.values(o.rooms).every(n => typeof n === 'number')
  );
}

/**
 * Broadcast adapter over Redis pub/sub. Channels: `<prefix>:all` for everyone, `<prefix>:room:<room>`
 * per room (subscribed only while the room has local members), `<prefix>:ctl` for stats requests and
 * `<prefix>:node:<id>` for answers addressed to one node. One publishing connection per node and
 * Redis' in-order delivery on one subscribing connection keep every publisher's messages in order,
 * across the global and room channels alike.
 */
export class RedisAdapter implements BroadcastAdapter {
  readonly name = 'redis';
  /** This node's id in envelopes and stats (`options.nodeId`, or random). */
  readonly nodeId: string;
  private readonly prefix: string;
  private readonly statsTimeoutMs: number;
  private readonly pub: Connection;
  private readonly sub: Connection;
  private host: AdapterHost | undefined;
  private unwatch: (() => void)[] = [];
  /** Channels this node wants to hear; the source of truth when subscriptions must be restored. */
  private readonly channels = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly collectors = new Map<number, StatsCollector>();
  private requestSeq = 0;
  private readonly meter: AdapterMeter;
  private closed = false;
  /** Room history in Redis Streams, when the plugin's `recovery` is on. */
  private recorder: RedisHistory | undefined;
  /** Room -> its channel's SUBSCRIBE, answered or not (recovery waits for it before reading positions). */
  private readonly subscriptions = new Map<string, Promise<void>>();
  /** The host was told the transport is down and not yet that it is back. */
  private down = false;
  private backPoll: NodeJS.Timeout | undefined;

  constructor(options: RedisAdapterOptions) {
    if (options.pub === options.sub) {
      throw new TypeError('RedisAdapter needs two connections: a subscribed connection cannot publish');
    }
    this.prefix = options.prefix ?? 'nextrush:ws';
    this.nodeId = options.nodeId ?? randomBytes(8).toString('hex');
    if (Buffer.byteLength(this.nodeId) === 0 || Buffer.byteLength(this.nodeId) > 255) {
      throw new RangeError('nodeId must be 1..255 bytes');
    }
    this.statsTimeoutMs = options.statsTimeoutMs ?? 1000;
    this.meter = new AdapterMeter(
      'redis adapter',
      this.nodeId,
      'local delivery continues, other nodes miss messages'
    );
    this.pub = wrap(options.pub, () => {});
    this.sub = wrap(options.sub, msg => this.onMessage(msg));
  }

  attach(host: AdapterHost): void {
    if (this.host) throw new Error('RedisAdapter is already attached');
    this.host = host;
    this.meter.host = host;
    // Our error listeners also keep an unhandled client 'error' event from crashing the process.
    const onDown = () => this.onDown();
    this.unwatch.push(
      this.pub.watch(
        () => this.onReady(),
        err => {
          this.fail(err, 'redis (pub)');
          onDown();
        },
        onDown
      ),
      this.sub.watch(
        () => {
          this.resubscribe();
          this.onReady();
        },
        err => {
          this.fail(err, 'redis (sub)');
          onDown();
        },
        onDown
      )
    );
    this.channels.add(this.globalChannel());
    this.channels.add(this.controlChannel());
    this.channels.add(this.nodeChannel(this.nodeId));
    for (const room of host.localRooms()) this.channels.add(this.roomChannel(room));
    void this.track(this.sub.subscribe([...this.channels]), 'subscribe');
    this.recorder?.warm();
  }

  /**
   * Room history in Redis Streams for `recovery` (the plugin calls this once, before `attach`). Room
   * broadcasts then go through a Lua script that records, numbers and publishes them; see
   * docs/recovery.md for the keys and the trimming.
   */
  history(limits: HistoryLimits): SharedHistory {
    if (this.recorder) throw new Error('RedisAdapter history is already in use');
    this.recorder = new RedisHistory(
      {
        ready: () => !this.closed && this.pub.ready(),
        command: args => this.pub.command(args),
        subscribed: room => this.subscriptions.get(room) ?? Promise.resolve(),
        roomChannel: room => this.roomChannel(room),
        head: room => encode(Kind.Sequenced, this.nodeId, room, ''),
        key: (kind, room) => `${this.prefix}:${kind}:${room}`,
        appended: err => {
          if (err === undefined) this.meter.published++;
          else this.fail(err, 'history append');
        },
      },
      limits
    );
    return this.recorder;
  }

  publish(data: BroadcastData, room?: string): void {
    if (this.closed) return;
    let envelope: Buffer;
    try {
      envelope = encodeBroadcast(this.nodeId, data, room);
    } catch (err) {
      this.fail(err, 'encode');
      return;
    }
    this.send(room === undefined ? this.globalChannel() : this.roomChannel(room), envelope);
  }

  roomCreated(room: string): void {
    const channel = this.roomChannel(room);
    if (this.closed || this.channels.has(channel)) return;
    this.channels.add(channel);
    this.subscriptions.set(room, this.track(this.sub.subscribe([channel]), 'subscribe'));
  }

  roomDeleted(room: string): void {
    const channel = this.roomChannel(room);
    if (this.closed || !this.channels.delete(channel)) return;
    this.subscriptions.delete(room);
    void this.track(this.sub.unsubscribe([channel]), 'unsubscribe');
  }

  /**
   * Resolves once every subscription change issued so far has been answered by Redis (or failed).
   * After `await adapter.settled()` a room created before the call hears the other nodes.
   */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Unsubscribes and detaches from the clients; the clients stay open (they belong to the caller). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.backPoll);
    for (const collector of this.collectors.values()) collector.finish();
    const channels = [...this.channels];
    this.channels.clear();
    // Only a live connection can answer; a queued UNSUBSCRIBE on a dead one would hold close() forever.
    if (this.sub.ready() && channels.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const cap = new Promise<void>(resolve => (timer = setTimeout(resolve, 1000)));
      await Promise.race([this.sub.unsubscribe(channels).catch(() => {}), cap]);
      clearTimeout(timer);
    }
    for (const off of this.unwatch) off();
    this.unwatch = [];
  }

  stats(): AdapterStats {
    return this.meter.stats(!this.closed && this.pub.ready() && this.sub.ready());
  }

  /**
   * Asks every node over the control channel. PUBLISH answers how many connections heard the
   * request, so the collection ends as soon as all of them replied, or after `statsTimeoutMs`.
   */
  clusterStats(): Promise<ClusterStats> {
    const own = this.ownStats();
    if (this.closed || !this.pub.ready() || !this.sub.ready()) return Promise.resolve(sumStats([own]));
    const requestId = ++this.requestSeq;
    return new Promise(resolve => {
      const replies = new Map<string, NodeStats>();
      let expected = Infinity;
      const finish = () => {
        clearTimeout(timer);
        this.collectors.delete(requestId);
        resolve(sumStats([own, ...replies.values()]));
      };
      const timer = setTimeout(finish, this.statsTimeoutMs);
      this.collectors.set(requestId, {
        add: stats => {
          replies.set(stats.nodeId, stats);
          if (replies.size >= expected) finish();
        },
        finish,
      });
      const request = encode(Kind.StatsRequest, this.nodeId, undefined, String(requestId));
      this.pub.publish(this.controlChannel(), request).then(
        listeners => {
          expected = listeners - 1; // our own subscriber heard it too
          if (replies.size >= expected) finish();
        },
        (err: unknown) => {
          this.fail(err, 'publish');
          finish();
        }
      );
    });
  }

  private ownStats(): NodeStats {
    return this.meter.nodeStats();
  }

  private send(channel: string, envelope: Buffer): void {
    // The clients' offline queues would hold every message of an outage and replay it minutes late;
    // a broadcast is live data, so while Redis is away it is dropped and counted instead.
    if (!this.pub.ready()) {
      this.fail(new Error('not connected; message not forwarded to other nodes'), 'redis');
      return;
    }
    this.pub.publish(channel, envelope).then(
      () => {
        this.meter.published++;
        if (this.sub.ready()) this.meter.healthy();
      },
      (err: unknown) => this.fail(err, 'publish')
    );
  }

  private onMessage(buf: Buffer): void {
    const env = decode(buf);
    if (!env || this.closed) return;
    // A recorded room message reaches every node, this one too: local delivery waits for Redis' order.
    if (env.kind === Kind.Sequenced) return this.onSequenced(env);
    // Our own messages come back on channels we share; dropping only those keeps others' order intact.
    if (env.nodeId === this.nodeId) return;
    try {
      this.dispatch(env);
    } catch (err) {
      // Never let an exception escape into the client's reply parser.
      this.host?.log('error', 'redis adapter: handling a message failed', { error: errorMessage(err) });
    }
  }

  private dispatch(env: Envelope): void {
    switch (env.kind) {
      case Kind.Text:
      case Kind.Binary:
        this.meter.received++;
        this.host?.deliverRemote(env.payload, env.kind === Kind.Text, env.room);
        return;
      case Kind.StatsRequest: {
        const body = JSON.stringify({ requestId: Number(env.payload.toString()), stats: this.ownStats() });
        const reply = encode(Kind.StatsReply, this.nodeId, undefined, body);
        if (this.pub.ready()) {
          this.pub
            .publish(this.nodeChannel(env.nodeId), reply)
            .catch((err: unknown) => this.fail(err, 'publish'));
        }
        return;
      }
      case Kind.StatsReply: {
        const body = JSON.parse(env.payload.toString()) as { requestId?: unknown; stats?: unknown };
        const collector =
          typeof body.requestId === 'number' ? this.collectors.get(body.requestId) : undefined;
        if (collector && isNodeStats(body.stats)) collector.add(body.stats);
        return;
      }
    }
  }

  private onSequenced(env: Envelope): void {
    const msg = decodeSequenced(env.payload);
    if (msg === undefined || env.room === undefined) return;
    if (env.nodeId !== this.nodeId) this.meter.received++;
    try {
      this.host?.deliverSequenced?.(env.room, msg.epoch, msg.offset, msg.data, msg.text);
    } catch (err) {
      this.host?.log('error', 'redis adapter: handling a message failed', { error: errorMessage(err) });
    }
  }

  /** A client closed or is reconnecting: room streams may get holes until it is back. */
  private onDown(): void {
    this.recorder?.reset();
    if (this.down || this.closed || (this.pub.ready() && this.sub.ready())) return;
    this.down = true;
    this.host?.transportChanged?.(false);
    // A client's 'ready' after a reconnect was not always heard (node-redis v5 `pub`, seen in the
    // restart tests), so the way back is also polled; resubscribing twice is harmless.
    this.backPoll ??= setInterval(() => {
      if (this.closed || (this.pub.ready() && this.sub.ready())) {
        clearInterval(this.backPoll);
        this.backPoll = undefined;
        if (this.closed) return;
        this.resubscribe();
        this.onReady();
      }
    }, 100);
    this.backPoll.unref();
  }

  /** Both clients resubscribe by themselves after a reconnect; this also repairs commands that failed. */
  private resubscribe(): void {
    if (this.closed || this.channels.size === 0) return;
    void this.track(this.sub.subscribe([...this.channels]), 'subscribe');
    this.recorder?.warm();
  }

  private onReady(): void {
    if (!this.pub.ready() || !this.sub.ready()) return;
    this.meter.healthy();
    if (!this.down) return;
    // Back: once the room channels are subscribed again, recovery catches up from the streams.
    void this.settled().then(() => {
      if (!this.down || this.closed || !this.pub.ready() || !this.sub.ready()) return;
      this.down = false;
      this.host?.transportChanged?.(true);
    });
  }

  private track(p: Promise<unknown>, what: string): Promise<void> {
    const tracked = p.then(
      () => {},
      (err: unknown) => this.fail(err, what)
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    return tracked;
  }

  private fail(err: unknown, what: string): void {
    this.meter.fail(err, what);
  }

  private globalChannel(): string {
    return `${this.prefix}:all`;
  }

  private controlChannel(): string {
    return `${this.prefix}:ctl`;
  }

  private nodeChannel(id: string): string {
    return `${this.prefix}:node:${id}`;
  }

  private roomChannel(room: string): string {
    return `${this.prefix}:room:${room}`;
  }
}
