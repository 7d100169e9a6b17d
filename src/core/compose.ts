// Koa-style middleware composition: onion order, and a second call to next() is an error.
import { Errors } from './errors.js';
import type { Context, Middleware, Next } from './types.js';

/** Composes middleware into one; `next` of the last one calls the outer `next`, if any. */
export function compose(middleware: readonly Middleware[]): (ctx: Context, next?: Next) => Promise<void> {
  const stack = middleware.slice();
  return function composed(ctx: Context, outer?: Next): Promise<void> {
    let last = -1;
    function dispatch(i: number): Promise<void> {
      if (i <= last) return Promise.reject(Errors.nextCalledTwice());
      last = i;
      const fn = stack[i];
      if (fn === undefined) return outer ? outer() : Promise.resolve();
      try {
        return Promise.resolve(fn(ctx, dispatch.bind(null, i + 1))).then(() => undefined);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return dispatch(0);
  };
}
