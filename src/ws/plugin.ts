// WebSocketPlugin: installs app.ws / app.wsUse / app.wsBroadcast and serves RFC 6455 upgrades for an app.
import type { Application, Plugin } from '../core/types.js';
import type { BroadcastData, ClusterStats } from './adapter.js';
import { webSocketProtocol } from './app-protocol.js';
import { WebSocketHub } from './hub.js';
import { resolveOptions } from './options.js';
import type {
  WebSocketPluginOptions,
  WebSocketStats,
  WSConnection,
  WSHandler,
  WSMiddleware,
  WSRoomManager,
} from './types.js';
import { wsError } from './errors.js';

declare module '../core/types.js' {
  interface Application {
    /** Registers a WebSocket route handler (available after `WebSocketPlugin.install(app)`). */
    ws(path: string, handler: WSHandler): void;
    /** Registers upgrade-time middleware, run in order after the handshake and before the route handler. */
    wsUse(middleware: WSMiddleware): void;
    /** Sends to every connection, or to the members of `room`, on every node. */
    wsBroadcast(data: string | Buffer, room?: string): void;
  }
  interface Context {
    /** WebSocket connection (when request is upgraded): set after the 101, before the route handler runs. */
    ws?: WSConnection;
    /** Whether this request is a WebSocket upgrade request: true through the whole chain of an upgrade. */
    isWebSocket: boolean;
    /** WebSocket room manager. */
    wsRooms: WSRoomManager;
  }
}

/** The RFC 6455 WebSocket server plugin: `install(app)` adds `app.ws()`, `app.wsUse()` and `app.wsBroadcast()`. */
export class WebSocketPlugin implements Plugin {
  readonly name = 'websocket';
  private readonly hub: WebSocketHub;
  private app: Application | undefined;

  constructor(options: WebSocketPluginOptions = {}) {
    this.hub = new WebSocketHub(resolveOptions(options));
  }

  install(app: Application): void {
    if (this.app !== undefined)
      throw wsError('WS_ERR_ALREADY_INSTALLED', 'WebSocketPlugin: this plugin is already installed');
    this.app = app;
    const hub = this.hub;
    app.ws = (path: string, handler: WSHandler): void => {
      if (typeof path !== 'string' || !path.startsWith('/'))
        throw wsError('WS_ERR_INVALID_ARGUMENT', 'app.ws(): path must start with "/"');
      if (typeof handler !== 'function')
        throw wsError('WS_ERR_INVALID_ARGUMENT', 'app.ws(): handler must be a function');
      if (hub.options.paths.length > 0 && hub.declaredPaths.find(path) === null) {
        hub.log('debug', 'app.ws() path is outside the plugin path option; serving it anyway', { path });
      }
      hub.routes.add(path, handler);
    };
    app.wsUse = (middleware: WSMiddleware): void => {
      if (typeof middleware !== 'function')
        throw wsError('WS_ERR_INVALID_ARGUMENT', 'app.wsUse(): middleware must be a function');
      hub.middleware.push(middleware);
    };
    app.wsBroadcast = (data: string | Buffer, room?: string): void => {
      hub.broadcast(data, room);
    };
    app.context.isWebSocket = false;
    app.context.wsRooms = hub.rooms;
    app.onUpgrade(webSocketProtocol(hub));
    app.onClose(() => hub.shutdown());
    hub.heartbeat.start();
  }

  /** Counters and current sizes. */
  getStats(): WebSocketStats {
    return this.hub.getStats();
  }

  /** Connections and room sizes across every node of the adapter. */
  getClusterStats(): Promise<ClusterStats> {
    return this.hub.adapter.clusterStats();
  }

  /** Same as `app.wsBroadcast`; returns the number of local recipients. */
  broadcast(data: BroadcastData, room?: string): number {
    return this.hub.broadcast(data, room);
  }

  /** The room manager (also `ctx.wsRooms`). */
  get rooms(): WSRoomManager {
    return this.hub.rooms;
  }

  /** A snapshot of the OPEN connections on this node (sockets in wsUse middleware are not listed). */
  get connections(): ReadonlySet<WSConnection> {
    const sockets = new Set<WSConnection>();
    for (const connection of this.hub.connections) sockets.add(connection.socket);
    return sockets;
  }

  /** Closes every connection with 1001 and stops timers; `app.close()` calls this. */
  close(): Promise<void> {
    return this.hub.shutdown();
  }
}
