// HTTP routing on top of the path Router: per-path method tables, HEAD -> GET fallback, 405 with Allow.
import { compose } from './compose.js';
import { Errors } from './errors.js';
import { Router } from './router.js';
import type { BaseContext } from './context.js';
import type { Middleware } from './types.js';

interface MethodTable {
  byMethod: Map<string, Middleware>;
  any: Middleware | undefined;
}

/** What routing decided for one request. */
export type RouteResult =
  | { kind: 'handler'; handler: Middleware; params: Record<string, string> }
  | { kind: 'options'; allow: string }
  | { kind: 'not-allowed'; allow: string }
  | { kind: 'none' };

export const NONE: RouteResult = { kind: 'none' };

export class HttpRoutes {
  private readonly router = new Router<MethodTable>();

  add(method: string | undefined, path: string, handlers: Middleware[]): void {
    if (typeof path !== 'string') throw new TypeError('Route path must be a string');
    if (handlers.length === 0) throw new TypeError(`Route ${path} needs a handler`);
    for (const h of handlers)
      if (typeof h !== 'function') throw new TypeError(`Route ${path}: handler is not a function`);
    const handler = handlers.length === 1 ? handlers[0] : compose(handlers);
    let table = this.router.get(path);
    if (!table) this.router.add(path, (table = { byMethod: new Map(), any: undefined }));
    if (method === undefined) table.any = handler;
    else table.byMethod.set(method, handler);
  }

  /** May throw HttpError 400 for a malformed %-escape in a parameter. */
  resolve(method: string, path: string): RouteResult {
    const match = this.router.find(path);
    if (!match) return NONE;
    const table = match.value;
    const handler =
      table.byMethod.get(method) ?? (method === 'HEAD' ? table.byMethod.get('GET') : undefined) ?? table.any;
    if (handler) return { kind: 'handler', handler, params: match.params };
    const allow = allowed(table);
    return method === 'OPTIONS' ? { kind: 'options', allow } : { kind: 'not-allowed', allow };
  }
}

function allowed(table: MethodTable): string {
  const methods = new Set(table.byMethod.keys());
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  return [...methods].join(', ');
}

/** The last middleware of the chain: runs the route matched before the chain, or answers OPTIONS / 405. */
export const dispatchRoute: Middleware = (ctx, next) => {
  const route = (ctx as unknown as BaseContext).route;
  switch (route.kind) {
    case 'handler':
      return route.handler(ctx, next);
    case 'options':
      ctx.res.statusCode = 204;
      ctx.res.setHeader('Allow', route.allow);
      ctx.res.end();
      return undefined;
    case 'not-allowed':
      throw Errors.methodNotAllowed(ctx.method, route.allow);
    default:
      return next();
  }
};
