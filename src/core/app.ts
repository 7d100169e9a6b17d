// The application: middleware chain, routes, request handling, listen/attach/close and the plugin hooks.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import { hasBody, readBody } from './body.js';
import { compose } from './compose.js';
import { contextClassFor, type BaseContext, type ContextClass, type Resolve } from './context.js';
import { logError, sendError } from './error-response.js';
import { Errors } from './errors.js';
import { asResponse } from './response.js';
import { HttpRoutes, NONE, answerUnrouted, type RouteResult } from './routes.js';
import {
  advertiseExtendedConnect,
  createConnectListener,
  isHttp2Server,
  servesExtendedConnect,
  SessionTracker,
} from './http2.js';
import { createServerFor, listenArguments } from './server.js';
import { InFlight, shutdown } from './shutdown.js';
import type {
  AppOptions,
  AppServer,
  Application,
  CoreApplication,
  Context,
  CloseHook,
  ListenOptions,
  Middleware,
  Plugin,
  RouteArgs,
  UpgradeHandler,
  UpgradeProtocol,
  UpgradeRoute,
} from './types.js';
import { createUpgradeListener, type PendingUpgradeSocket, type UpgradeHost } from './upgrade.js';

export const DEFAULTS = {
  bodyLimit: 1024 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 30_000,
  closeTimeout: 10_000,
  trustProxy: false,
} as const satisfies Required<AppOptions>;

type Chain = (ctx: Context) => Promise<void>;

/** Responses kept from keep-alive only until their route reads the body (see handle()). */
const bodyOwners = new WeakSet<ServerResponse>();

/** The upgrade being served by a context, for the end of its chain. */
const upgrades = new WeakMap<BaseContext, { protocol: UpgradeProtocol; socket: PendingUpgradeSocket }>();

class App implements CoreApplication, UpgradeHost {
  readonly context: Record<string, unknown>;
  readonly plugins: string[] = [];
  readonly handlers: (UpgradeHandler | UpgradeProtocol)[] = [];
  private readonly config: Required<AppOptions>;
  private readonly Context: ContextClass;
  private readonly middleware: Middleware[] = [];
  private readonly routes = new HttpRoutes();
  private httpChain: Chain | undefined;
  private upgradeChain: Chain | undefined;
  private readonly serverHooks: ((server: AppServer) => void)[] = [];
  private readonly closeHooks: CloseHook[] = [];
  private readonly inFlight = new InFlight();
  private readonly resolveHttp: Resolve = (method, path) => this.routes.resolve(method, path);
  private readonly resolvers = new Map<UpgradeProtocol, Resolve>();
  private serverRef: Server | undefined;
  private closePromise: Promise<void> | undefined;
  private http2: { server: Http2SecureServer; sessions: SessionTracker } | undefined;

  constructor(options: AppOptions = {}) {
    this.config = { ...DEFAULTS, ...definedOnly(options) };
    this.Context = contextClassFor();
    this.context = this.Context.prototype as unknown as Record<string, unknown>;
  }

  get server(): AppServer | undefined {
    return this.serverRef;
  }

  get closing(): boolean {
    return this.closePromise !== undefined;
  }

  use(middleware: Middleware): this {
    if (typeof middleware !== 'function') throw new TypeError('app.use() expects a function');
    this.middleware.push(middleware);
    this.httpChain = this.upgradeChain = undefined;
    return this;
  }

  /** This app under the user-facing type, whose plugin-added members are assigned by plugins' install(). */
  asApplication(): Application {
    return this as unknown as Application;
  }

  register(plugin: Plugin): this {
    if (!plugin || typeof plugin.install !== 'function') throw new TypeError('register() expects a plugin');
    if (this.plugins.includes(plugin.name)) throw new Error(`Plugin "${plugin.name}" is already registered`);
    plugin.install(this.asApplication());
    this.plugins.push(plugin.name);
    return this;
  }

  get(...[path, ...h]: RouteArgs): this {
    return this.route('GET', path, h);
  }
  post(...[path, ...h]: RouteArgs): this {
    return this.route('POST', path, h);
  }
  put(...[path, ...h]: RouteArgs): this {
    return this.route('PUT', path, h);
  }
  patch(...[path, ...h]: RouteArgs): this {
    return this.route('PATCH', path, h);
  }
  delete(...[path, ...h]: RouteArgs): this {
    return this.route('DELETE', path, h);
  }
  head(...[path, ...h]: RouteArgs): this {
    return this.route('HEAD', path, h);
  }
  options(...[path, ...h]: RouteArgs): this {
    return this.route('OPTIONS', path, h);
  }
  all(...[path, ...h]: RouteArgs): this {
    return this.route(undefined, path, h);
  }

  private route(method: string | undefined, path: string, handlers: Middleware[]): this {
    this.routes.add(method, path, handlers);
    return this;
  }

  onServer(hook: (server: AppServer) => void): void {
    this.serverHooks.push(hook);
    if (this.serverRef) hook(this.serverRef);
  }

  onUpgrade(handler: UpgradeHandler | UpgradeProtocol): void {
    this.handlers.push(handler);
    if (this.http2 && servesExtendedConnect(handler)) advertiseExtendedConnect(this.http2.server);
  }

  onClose(hook: CloseHook): void {
    this.closeHooks.push(hook);
  }

  callback(): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // Only reachable if writing the error response itself failed; the socket is all that is left.
        logError(err, 'error response failed');
        res.destroy();
      });
    };
  }

  listen(
    portOrOptions?: number | ListenOptions,
    hostOrCallback?: string | (() => void),
    callback?: () => void
  ): Server & Http2SecureServer {
    this.assertNoServer('listen');
    const { options, callback: cb } = listenArguments(portOrOptions, hostOrCallback, callback);
    const server = this.attach(createServerFor(options, this.config));
    const { port = 0, host, backlog } = options;
    server.listen({ port, host, backlog }, cb);
    // One of the two, as the overloads of CoreApplication.listen say.
    return server as Server & Http2SecureServer;
  }

  /** The one place a server gets the app's request and upgrade listeners, whoever created it. */
  attach<S extends Server | Http2SecureServer>(server: S): S {
    this.assertNoServer('attach');
    // An HTTP/2 server with allowHTTP1 emits 'request' and 'upgrade' for HTTP/1.1 as an http.Server does.
    const http = server as unknown as Server;
    http.on('request', this.callback());
    http.on(
      'upgrade',
      createUpgradeListener(this, () => http.maxHeadersCount)
    );
    if (isHttp2Server(server)) this.attachHttp2(server);
    this.serverRef = http;
    for (const hook of this.serverHooks) hook(http);
    return server;
  }

  /** HTTP/2 only: extended CONNECT streams (RFC 8441), the setting that announces them, sessions for close(). */
  private attachHttp2(server: Http2SecureServer): void {
    server.on('connect', createConnectListener(this));
    this.http2 = { server, sessions: new SessionTracker(server) };
    if (this.handlers.some(servesExtendedConnect)) advertiseExtendedConnect(server);
  }

  private assertNoServer(method: string): void {
    if (this.serverRef) throw new Error(`${method}(): the app already has a server`);
    if (this.closing) throw new Error(`${method}() after close()`);
  }

  close(): Promise<void> {
    return (this.closePromise ??= shutdown({
      sessions: this.http2?.sessions,
      server: this.serverRef,
      hooks: this.closeHooks,
      inFlight: this.inFlight,
      timeout: this.config.closeTimeout,
    }));
  }

  private async handle(req: IncomingMessage, rawRes: ServerResponse): Promise<void> {
    const res = asResponse(rawRes);
    const ctx = new this.Context(this.asApplication(), req, res, this.config.trustProxy, this.resolveHttp);
    this.inFlight.add(res);
    // Until a route takes the body, an answer (a refusal by middleware) closes the connection: Node would
    // otherwise read the unwanted body to the end to reuse the connection.
    if (hasBody(req) && !req.complete && res.shouldKeepAlive) {
      res.shouldKeepAlive = false;
      bodyOwners.add(res);
    }
    try {
      // HTTP/2 has no Connection header: its sessions get GOAWAY from close().
      if (this.closing && req.httpVersionMajor !== 2) res.setHeader('Connection', 'close');
      await (this.httpChain ??= compose([...this.middleware, this.dispatchHttp]))(ctx as unknown as Context);
      if (!res.headersSent && !res.writableEnded) this.unanswered(ctx);
    } catch (err) {
      sendError(res, err, `${ctx.method} ${ctx.path}`, !req.complete);
    }
  }

  /** The end of the HTTP chain: route the current path, read the body the handler needs, run it. */
  private readonly dispatchHttp: Middleware = async (ctx, next) => {
    const route = (ctx as unknown as BaseContext).currentRoute() as RouteResult;
    if (route.kind !== 'handler') return answerUnrouted(route, ctx, next);
    if (bodyOwners.delete(ctx.res)) ctx.res.shouldKeepAlive = true;
    if (hasBody(ctx.req)) ctx.body = await readBody(ctx.req, this.config.bodyLimit);
    return route.handler(ctx, next);
  };

  /** Serves an upgrade request that `protocol` claimed: the app's chain, then `protocol.accept`. */
  serve(protocol: UpgradeProtocol, req: IncomingMessage, socket: PendingUpgradeSocket): void {
    // The socket is the response's source: the ServerResponse is made only if something uses ctx.res.
    const ctx = new this.Context(
      this.asApplication(),
      req,
      socket,
      this.config.trustProxy,
      this.resolverOf(protocol)
    );
    const done =
      this.middleware.length === 0
        ? this.acceptDirect(protocol, ctx, socket)
        : this.runUpgrade(protocol, ctx, socket);
    // Reached synchronously, the protocol took the socket (or refused it) already. Otherwise the chain
    // waits: the socket is in flight for close() and watched for the client hanging up until taken.
    if (!socket.isTaken) {
      socket.park?.();
      this.inFlight.add(socket);
      socket.onTake = () => this.inFlight.delete(socket);
    }
    done?.catch((err: unknown) => {
      logError(err, 'upgrade error response failed');
      socket.destroy();
    });
  }

  /** Routes an upgrade's path through its protocol (`ctx.params` of the protocol's route). */
  private resolverOf(protocol: UpgradeProtocol): Resolve {
    let resolve = this.resolvers.get(protocol);
    if (resolve === undefined) {
      resolve = (_method, path) => protocol.match(path) ?? NONE;
      this.resolvers.set(protocol, resolve);
    }
    return resolve;
  }

  /**
   * The chain of an app without middleware, without the promises of compose(): the end of the chain
   * (dispatchUpgrade) and the rest of runUpgrade, synchronously. Returns a promise only when the
   * protocol's accept returned one.
   */
  private acceptDirect(
    protocol: UpgradeProtocol,
    ctx: BaseContext,
    socket: PendingUpgradeSocket
  ): Promise<void> | undefined {
    try {
      protocol.prepare?.(ctx as unknown as Context);
      const route = ctx.currentRoute();
      if (route !== NONE) {
        if (socket.closed) return undefined;
        const accepted = protocol.accept(ctx as unknown as Context, route as UpgradeRoute, socket);
        if (accepted !== undefined) return this.afterAccept(accepted, ctx, socket);
      }
      this.upgradeEnded(ctx, socket);
    } catch (err) {
      this.upgradeFailed(err, ctx, socket);
    }
    return undefined;
  }

  private async afterAccept(
    accepted: Promise<void>,
    ctx: BaseContext,
    socket: PendingUpgradeSocket
  ): Promise<void> {
    try {
      await accepted;
      this.upgradeEnded(ctx, socket);
    } catch (err) {
      this.upgradeFailed(err, ctx, socket);
    }
  }

  private async runUpgrade(
    protocol: UpgradeProtocol,
    ctx: BaseContext,
    socket: PendingUpgradeSocket
  ): Promise<void> {
    try {
      upgrades.set(ctx, { protocol, socket });
      protocol.prepare?.(ctx as unknown as Context);
      await (this.upgradeChain ??= compose([...this.middleware, dispatchUpgrade]))(ctx as unknown as Context);
      this.upgradeEnded(ctx, socket);
    } catch (err) {
      this.upgradeFailed(err, ctx, socket);
    }
  }

  /** The chain of an upgrade ended: unless the protocol took the socket, the request must have an answer. */
  private upgradeEnded(ctx: BaseContext, socket: PendingUpgradeSocket): void {
    if (socket.isTaken || socket.closed) return;
    if (!ctx.res.headersSent && !ctx.res.writableEnded) this.unanswered(ctx);
  }

  private upgradeFailed(err: unknown, ctx: BaseContext, socket: PendingUpgradeSocket): void {
    if (socket.isTaken) {
      logError(err, `upgrade of ${ctx.path} failed after the protocol took the socket`);
      socket.destroy();
    } else if (!socket.closed) sendError(ctx.res, err, `upgrade ${ctx.path}`, false);
  }

  /** The chain finished without a response: never let the request hang. */
  private unanswered(ctx: BaseContext): void {
    if (ctx.currentRoute() === NONE) throw Errors.notFound(ctx.path);
    if (ctx.statusSet) {
      ctx.res.end();
      return;
    }
    throw Errors.noResponse();
  }
}

/** The end of an upgrade request's chain, where a route handler would run: the protocol accepts or refuses. */
const dispatchUpgrade: Middleware = async (ctx, next) => {
  const base = ctx as unknown as BaseContext;
  const upgrade = upgrades.get(base);
  const route = base.currentRoute();
  if (upgrade === undefined || route === NONE) return next();
  if (upgrade.socket.closed) return undefined;
  await upgrade.protocol.accept(ctx, route as UpgradeRoute, upgrade.socket);
  return undefined;
};

function definedOnly(options: AppOptions): AppOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** Creates an application. */
export function createApp(options?: AppOptions): Application {
  return new App(options).asApplication();
}
