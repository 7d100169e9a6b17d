// The per-request context. Each app gets its own subclass whose prototype is `app.context` (Koa semantics).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.js';
import { parseQuery, type QueryObject } from './query.js';
import type { Application, CoreContext, Response } from './types.js';

/** What routing found for a method and path; only `params` matters to the context itself. */
export interface Routed {
  readonly kind?: string;
  readonly params?: Record<string, string>;
}

/** Routes a method and path: the app's HTTP routes, or an upgrade protocol's endpoints. May throw HttpError. */
export type Resolve = (method: string, path: string) => Routed;

/**
 * Where an upgrade request's response comes from: it is made on first use of `ctx.res`, so an upgrade
 * that nothing answers over HTTP (the protocol takes the socket) never builds a ServerResponse.
 */
export interface ResponseSource {
  readonly res: ServerResponse;
}

export class BaseContext implements CoreContext {
  readonly req: IncomingMessage;
  readonly app: Application;
  body: unknown = undefined;
  /** True once someone assigned `ctx.status`; an unanswered request then ends with that status. */
  statusSet = false;
  private pathValue: string;
  private rawQuery: string;
  private parsedQuery: QueryObject | undefined;
  private readonly trustProxy: boolean;
  private readonly resolve: Resolve;
  /** The route of `routedPath`, resolved lazily: middleware may rewrite the URL before routing. */
  private routed: Routed | undefined;
  private routedPath = '';
  private ownParams: Record<string, string> | undefined;
  private stateValue: Record<string, unknown> | undefined;
  private response: Response | undefined;
  private readonly responseSource: ResponseSource | undefined;

  constructor(
    app: Application,
    req: IncomingMessage,
    res: Response | ResponseSource,
    trustProxy: boolean,
    resolve: Resolve
  ) {
    this.app = app;
    this.req = req;
    if (isResponseSource(res)) this.responseSource = res;
    else this.response = res;
    this.trustProxy = trustProxy;
    this.resolve = resolve;
    [this.pathValue, this.rawQuery] = splitTarget(req.url ?? '/');
  }

  /** What middleware passes on (`ctx.state.user`); made on first use, most requests never touch it. */
  get state(): Record<string, unknown> {
    return (this.stateValue ??= {});
  }

  set state(value: Record<string, unknown>) {
    this.stateValue = value;
  }

  /** Node's response: given with the request, or (upgrades) made by the source on first use. */
  get res(): Response {
    // The sources are the core's own pending upgrades, whose responses carry the helpers (AppResponse).
    return (this.response ??= (this.responseSource as ResponseSource).res as Response);
  }

  /** The routing decision for the current method and path, made on first use and again after a rewrite. */
  currentRoute(): Routed {
    if (this.routed === undefined || this.routedPath !== this.pathValue) {
      this.routedPath = this.pathValue;
      this.ownParams = undefined;
      this.routed = undefined;
      this.routed = this.resolve(this.method, this.pathValue);
    }
    return this.routed;
  }

  /** Parameters of the route that serves the current path (routing happens on first access). */
  get params(): Record<string, string> {
    const route = this.currentRoute();
    return (this.ownParams ??= route.params ?? {});
  }

  set params(value: Record<string, string>) {
    this.currentRoute();
    this.ownParams = value;
  }

  get status(): number {
    return this.res.statusCode;
  }

  set status(code: number) {
    this.statusSet = true;
    this.res.statusCode = code;
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get url(): string {
    return this.req.url ?? '/';
  }

  /** Rewrites the request target; routing, `path`, `query` and `params` follow the new URL. */
  set url(value: string) {
    if (typeof value !== 'string' || !value.startsWith('/'))
      throw new TypeError('ctx.url must be a path starting with "/"');
    this.req.url = value;
    [this.pathValue, this.rawQuery] = splitTarget(value);
    this.parsedQuery = undefined;
  }

  get path(): string {
    return this.pathValue;
  }

  /** Rewrites the path and keeps the query string. */
  set path(value: string) {
    this.url = this.rawQuery === '' ? value : `${value}?${this.rawQuery}`;
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get query(): QueryObject {
    return (this.parsedQuery ??= parseQuery(this.rawQuery));
  }

  get ip(): string {
    if (this.trustProxy) {
      const forwarded = this.req.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',', 1)[0]?.trim();
      if (first) return first;
    }
    return this.req.socket.remoteAddress ?? '';
  }

  json(data: unknown, status?: number): void {
    if (status !== undefined) this.res.statusCode = status;
    this.res.json(data);
  }

  throw(status: number, message?: string): never {
    throw new HttpError(status, message);
  }
}

/** A response has `writeHead`; a source of one does not. */
function isResponseSource(res: Response | ResponseSource): res is ResponseSource {
  return typeof (res as Partial<Response>).writeHead !== 'function';
}

/**
 * Path and query string of a request target. RFC 9112 3.2.2: a server MUST accept the absolute-form
 * (`http://host/path`); its path is routed like the origin-form's. Anything else (`*`, garbage) is kept
 * as it is and matches no route.
 */
function splitTarget(url: string): [path: string, query: string] {
  if (!url.startsWith('/')) {
    try {
      const { pathname, search } = new URL(url);
      if (pathname.startsWith('/')) return [pathname, search.slice(1)];
    } catch {
      // not absolute-form either
    }
    return [url, ''];
  }
  const q = url.indexOf('?');
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
}

export interface ContextClass {
  new (
    app: Application,
    req: IncomingMessage,
    res: Response | ResponseSource,
    trustProxy: boolean,
    resolve: Resolve
  ): BaseContext;
  readonly prototype: BaseContext;
}

/** A fresh subclass per app, so properties set on one app's `context` never leak into another's. */
export function contextClassFor(): ContextClass {
  return class AppContext extends BaseContext {};
}
