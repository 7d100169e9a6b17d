// HTTP routing on top of the path Router: one path tree per method, HEAD -> GET fallback, 405 with Allow.
import { compose } from './compose.js';
import { Errors } from './errors.js';
import { Router } from './router.js';
import type { Middleware } from './types.js';

/** What routing decided for one request. */
export type RouteResult =
  | { kind: 'handler'; handler: Middleware; params: Record<string, string> }
  | { kind: 'options'; allow: string }
  | { kind: 'not-allowed'; allow: string }
  | { kind: 'none' };

export const NONE: RouteResult = { kind: 'none' };

/** Key of the routes added with `app.all()`: they answer any method that has no route of its own. */
const ANY = '*';

/**
 * Routes match by method first: each method has its own path tree, so `GET /x/:id` and `POST /x/*`
 * both answer. A path matched only by other methods' trees answers 405 (or 204 for OPTIONS) with `Allow`.
 */
export class HttpRoutes {
  private readonly byMethod = new Map<string, Router<Middleware>>();

  add(method: string | undefined, path: string, handlers: Middleware[]): void {
    if (typeof path !== 'string') throw new TypeError('Route path must be a string');
    if (handlers.length === 0) throw new TypeError(`Route ${path} needs a handler`);
    for (const h of handlers)
      if (typeof h !== 'function') throw new TypeError(`Route ${path}: handler is not a function`);
    const handler = handlers.length === 1 ? handlers[0] : compose(handlers);
    const key = method ?? ANY;
    let router = this.byMethod.get(key);
    if (!router) this.byMethod.set(key, (router = new Router<Middleware>()));
    router.add(path, handler);
  }

  /**
   * The method's own routes first, then GET for HEAD, then `all()` routes. May throw HttpError 400 for
   * a malformed %-escape in a parameter.
   */
  resolve(method: string, path: string): RouteResult {
    const match =
      this.byMethod.get(method)?.find(path) ??
      (method === 'HEAD' ? this.byMethod.get('GET')?.find(path) : undefined) ??
      this.byMethod.get(ANY)?.find(path);
    if (match) return { kind: 'handler', handler: match.value, params: match.params };
    const allow = this.allowed(path);
    if (allow === undefined) return NONE;
    return method === 'OPTIONS' ? { kind: 'options', allow } : { kind: 'not-allowed', allow };
  }

  /** The `Allow` value for a path no route of the request's method matches, or undefined for none. */
  private allowed(path: string): string | undefined {
    const methods = new Set<string>();
    for (const [method, router] of this.byMethod) {
      if (method !== ANY && router.find(path) !== null) methods.add(method);
    }
    if (methods.size === 0) return undefined;
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    return [...methods].join(', ');
  }
}

/** Answers what routing decided when no handler matched: OPTIONS 204 / 405 with Allow, else next(). */
export function answerUnrouted(
  route: RouteResult,
  ctx: Parameters<Middleware>[0],
  next: () => Promise<void>
) {
  switch (route.kind) {
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
}
