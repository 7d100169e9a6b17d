// The framework's public contracts: application, context, middleware and plugin shapes.
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Calls the rest of the middleware chain; resolves when everything downstream has finished. */
export type Next = () => Promise<void>;

/** Koa-style middleware: runs before and after `await next()` (onion order). */
export type Middleware = (ctx: Context, next: Next) => unknown;

/** A route handler is a middleware that usually does not call `next`. */
export type Handler = Middleware;

/** `ctx.res`: Node's ServerResponse with a few chainable helpers. */
export interface Response extends ServerResponse {
  /** Sets the status code; chainable. */
  status(code: number): this;
  /** Sends `data` as JSON (`application/json; charset=utf-8`) and ends the response. */
  json(data: unknown): this;
  /** Sends a string (text/plain or text/html guess), a Buffer (octet-stream) or an object (JSON) and ends. */
  send(body: string | Buffer | Uint8Array | object | null | undefined): this;
}

/**
 * Per-request context as users see it. Plugins add members by declaration merging (the WebSocket plugin
 * adds `isWebSocket`, `wsRooms` and `ws`) and set their values on `app.context`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by plugins through declaration merging
export interface Context extends CoreContext {}

/** The members of a context that the framework core itself implements. */
export interface CoreContext {
  readonly req: IncomingMessage;
  readonly res: Response;
  readonly app: Application;
  /** Response status code (read/write). */
  status: number;
  readonly method: string;
  /** Path without the query string, e.g. `/users/42`. */
  readonly path: string;
  /** The raw request URL: path plus query string. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed query string as a plain object; repeated keys become arrays. */
  readonly query: Record<string, string | string[]>;
  /** Route parameters (`:name`, and `*` for a trailing wildcard), URL-decoded. */
  params: Record<string, string>;
  /** Parsed request body: JSON, urlencoded (object), text (string), or undefined when there is none. */
  body: unknown;
  /** Free space for middleware to pass data downstream. */
  state: Record<string, unknown>;
  /** Remote address of the client. */
  readonly ip: string;
  /** Sends `data` as JSON with an optional status. */
  json(data: unknown, status?: number): void;
  /** Throws an HttpError; messages of statuses below 500 are shown to the client. */
  throw(status: number, message?: string): never;
}

/**
 * Called for every HTTP `upgrade` request, in registration order. Return `true` when the handler took
 * responsibility for the socket (answered or upgraded it). When no handler claims it, the app answers
 * the request with an HTTP error and closes the socket.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** Runs during `app.close()`, after the server stopped accepting connections. */
export type CloseHook = () => void | Promise<void>;

/** A plugin adds behaviour to an application. */
export interface Plugin {
  readonly name: string;
  install(app: Application): void;
}

export interface AppOptions {
  /** Maximum request body size in bytes (default 1 MiB); larger bodies answer 413. */
  bodyLimit?: number;
  /** Time allowed to receive all request headers, ms (default 10 000). */
  headersTimeout?: number;
  /** Time allowed to receive the whole request, ms (default 30 000). */
  requestTimeout?: number;
  /** How long an idle keep-alive connection stays open, ms (default 5 000). */
  keepAliveTimeout?: number;
  /**
   * How often Node checks `headersTimeout` and `requestTimeout`, ms (default 30 000, Node's own default):
   * a slow request is cut off between the timeout and the timeout plus this interval.
   */
  connectionsCheckingInterval?: number;
  /** How long `close()` waits for in-flight requests before destroying them, ms (default 10 000). */
  closeTimeout?: number;
  /** Trust `X-Forwarded-For` for `ctx.ip` (default false). */
  trustProxy?: boolean;
}

export type RouteArgs = [path: string, ...handlers: Middleware[]];

/**
 * The application as users see it. Plugins add members by declaration merging (the WebSocket plugin
 * adds `ws`, `wsUse` and `wsBroadcast`) and assign them in `install()`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by plugins through declaration merging
export interface Application extends CoreApplication {}

/** The members of an application that the framework core itself implements. */
export interface CoreApplication {
  /** Adds a middleware to the chain that runs for every request (before routing). */
  use(middleware: Middleware): this;
  /** Installs a plugin (same as `plugin.install(app)`), remembering its name. */
  register(plugin: Plugin): this;

  get(...args: RouteArgs): this;
  post(...args: RouteArgs): this;
  put(...args: RouteArgs): this;
  patch(...args: RouteArgs): this;
  delete(...args: RouteArgs): this;
  head(...args: RouteArgs): this;
  options(...args: RouteArgs): this;
  all(...args: RouteArgs): this;

  /** Properties set here appear on every context (prototype of each ctx), like Koa's `app.context`. */
  readonly context: Record<string, unknown>;

  /** Starts an HTTP server. `listen(0)` picks a free port (see `server.address()`). */
  listen(port?: number, host?: string, callback?: () => void): Server;
  listen(port: number, callback: () => void): Server;

  /** The server created by `listen()`, or undefined before. */
  readonly server: Server | undefined;

  /** Node request listener, for use with a server you create yourself (`http.createServer(app.callback())`). */
  callback(): (req: IncomingMessage, res: ServerResponse) => void;

  /** Plugin hook: called once the HTTP server exists (immediately if it already does). */
  onServer(hook: (server: Server) => void): void;
  /** Plugin hook: claims HTTP upgrade requests. */
  onUpgrade(handler: UpgradeHandler): void;
  /** Plugin hook: runs during `close()`. */
  onClose(hook: CloseHook): void;

  /**
   * Graceful shutdown: stops accepting connections, ends idle keep-alive connections at once, runs the
   * close hooks (the WebSocket plugin closes its peers with 1001 there), waits for in-flight requests up
   * to `closeTimeout`, then destroys what is left. Resolves when done; calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** True once `close()` has been called. */
  readonly closing: boolean;
}
