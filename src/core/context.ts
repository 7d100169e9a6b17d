// The per-request context. Each app gets its own subclass whose prototype is `app.context` (Koa semantics).
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';
import { NONE, type RouteResult } from './routes.js';
import { parseQuery, type QueryObject } from './query.js';
import type { Application, CoreContext, Response } from './types.js';

export class BaseContext implements CoreContext {
  readonly req: IncomingMessage;
  readonly res: Response;
  readonly app: Application;
  readonly path: string;
  params: Record<string, string> = {};
  body: unknown = undefined;
  state: Record<string, unknown> = {};
  /** True once someone assigned `ctx.status`; an unanswered request then ends with that status. */
  statusSet = false;
  /** Routing decision, made before the middleware chain so every middleware sees `params`. */
  route: RouteResult = NONE;
  private rawQuery: string;
  private parsedQuery: QueryObject | undefined;
  private readonly trustProxy: boolean;

  constructor(app: Application, req: IncomingMessage, res: Response, trustProxy: boolean) {
    this.app = app;
    this.req = req;
    this.res = res;
    this.trustProxy = trustProxy;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.rawQuery = q === -1 ? '' : url.slice(q + 1);
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

export interface ContextClass {
  new (app: Application, req: IncomingMessage, res: Response, trustProxy: boolean): BaseContext;
  readonly prototype: BaseContext;
}

/** A fresh subclass per app, so properties set on one app's `context` never leak into another's. */
export function contextClassFor(): ContextClass {
  return class AppContext extends BaseContext {};
}
