// The application: middleware chain, routes, request handling, listen/close and the plugin hooks.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { hasBody, readBody } from './body.js';
import { compose } from './compose.js';
import { contextClassFor, type BaseContext, type ContextClass } from './context.js';
import { logError, sendError } from './error-response.js';
import { Errors } from './errors.js';
import { AppResponse, asResponse } from './response.js';
import { HttpRoutes, dispatchRoute } from './routes.js';
import { shutdown } from './shutdown.js';
import type {
  AppOptions,
  Application,
  CoreApplication,
  Context,
  CloseHook,
  Middleware,
  Plugin,
  RouteArgs,
  UpgradeHandler,
} from './types.js';
import { createUpgradeListener } from './upgrade.js';

export const DEFAULTS = {
  bodyLimit: 1024 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 30_000,
  closeTimeout: 10_000,
  trustProxy: false,
} as const satisfies Required<AppOptions>;

class App implements CoreApplication {
  readonly context: Record<string, unknown>;
  readonly plugins: string[] = [];
  private readonly config: Required<AppOptions>;
  private readonly Context: ContextClass;
  private readonly middleware: Middleware[] = [];
  private readonly routes = new HttpRoutes();
  private chain: ((ctx: Context) => Promise<void>) | undefined;
  private readonly serverHooks: ((server: Server) => void)[] = [];
  private readonly upgradeHandlers: UpgradeHandler[] = [];
  private readonly closeHooks: CloseHook[] = [];
  private readonly inFlight = new Set<ServerResponse>();
  private serverRef: Server | undefined;
  private closePromise: Promise<void> | undefined;

  constructor(options: AppOptions = {}) {
    this.config = { ...DEFAULTS, ...definedOnly(options) };
    this.Context = contextClassFor();
    this.context = this.Context.prototype as unknown as Record<string, unknown>;
  }

  get server(): Server | undefined {
    return this.serverRef;
  }

  get closing(): boolean {
    return this.closePromise !== undefined;
  }

  use(middleware: Middleware): this {
    if (typeof middleware !== 'function') throw new TypeError('app.use() expects a function');
    this.middleware.push(middleware);
    this.chain = undefined;
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

  onServer(hook: (server: Server) => void): void {
    this.serverHooks.push(hook);
    if (this.serverRef) hook(this.serverRef);
  }

  onUpgrade(handler: UpgradeHandler): void {
    this.upgradeHandlers.push(handler);
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

  listen(port?: number, hostOrCallback?: string | (() => void), callback?: () => void): Server {
    if (this.serverRef) throw new Error('listen() was already called');
    if (this.closing) throw new Error('listen() after close()');
    const host = typeof hostOrCallback === 'string' ? hostOrCallback : undefined;
    const cb = typeof hostOrCallback === 'function' ? hostOrCallback : callback;
    const { headersTimeout, requestTimeout, keepAliveTimeout, connectionsCheckingInterval } = this.config;
    // The subclass carries the ctx.res helpers on its prototype; Node's typings cannot express it.
    const server = createServer(
      {
        ServerResponse: AppResponse as unknown as typeof ServerResponse,
        headersTimeout,
        requestTimeout,
        connectionsCheckingInterval,
      },
      this.callback()
    );
    server.keepAliveTimeout = keepAliveTimeout;
    server.on(
      'upgrade',
      createUpgradeListener(
        this.upgradeHandlers,
        () => this.closing,
        () => server.maxHeadersCount
      )
    );
    this.serverRef = server;
    for (const hook of this.serverHooks) hook(server);
    if (host === undefined) server.listen(port ?? 0, cb);
    else server.listen(port ?? 0, host, cb);
    return server;
  }

  close(): Promise<void> {
    return (this.closePromise ??= shutdown({
      server: this.serverRef,
      hooks: this.closeHooks,
      inFlight: this.inFlight,
      timeout: this.config.closeTimeout,
    }));
  }

  private async handle(req: IncomingMessage, rawRes: ServerResponse): Promise<void> {
    const res = asResponse(rawRes);
    const ctx = new this.Context(this.asApplication(), req, res, this.config.trustProxy);
    this.track(res);
    try {
      if (this.closing) res.setHeader('Connection', 'close');
      ctx.route = this.routes.resolve(ctx.method, ctx.path);
      if (ctx.route.kind === 'handler') ctx.params = ctx.route.params;
      if (hasBody(req)) ctx.body = await readBody(req, this.config.bodyLimit);
      await (this.chain ??= compose([...this.middleware, dispatchRoute]))(ctx as unknown as Context);
      if (!res.headersSent && !res.writableEnded) this.unanswered(ctx);
    } catch (err) {
      sendError(res, err, `${ctx.method} ${ctx.path}`);
    }
  }

  /** The chain finished without a response: never let the request hang. */
  private unanswered(ctx: BaseContext): void {
    if (ctx.route.kind === 'none') throw Errors.notFound(ctx.path);
    if (ctx.statusSet) {
      ctx.res.end();
      return;
    }
    throw Errors.noResponse();
  }

  private track(res: ServerResponse): void {
    this.inFlight.add(res);
    res.once('close', () => this.inFlight.delete(res));
  }
}

function definedOnly(options: AppOptions): AppOptions {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}

/** Creates an application. */
export function createApp(options?: AppOptions): Application {
  return new App(options).asApplication();
}
