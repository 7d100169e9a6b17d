// Routes the rejection of an application callback's promise (if it returned one) to an error handler.

/** `result` is whatever a user callback returned; sync callbacks return undefined and cost one comparison. */
export function onRejection(result: unknown, handle: (error: unknown) => void): void {
  if (result === undefined || result === null) return;
  const then = (result as { then?: unknown }).then;
  if (typeof then === 'function') (result as PromiseLike<unknown>).then(undefined, handle);
}
