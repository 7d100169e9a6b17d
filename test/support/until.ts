// The tests' one wait-for-a-state helper: polls a predicate, with a deadline that turns a hang into a readable failure.

export interface UntilOptions {
  /** A safety net, not a speed check: how long to wait before failing (default 20 s). */
  timeoutMs?: number;
  /** What is awaited, for the failure message (default: the predicate's source). */
  label?: string;
  /** Polling period (default 5 ms). */
  intervalMs?: number;
}

/** Resolves once `predicate()` holds; rejects with the label when it has not held within `timeoutMs`. */
export async function until(predicate: () => boolean, options: UntilOptions = {}): Promise<void> {
  const { timeoutMs = 20_000, intervalMs = 5 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      const label = options.label ?? predicate.toString();
      throw new Error(`until: not true within ${timeoutMs} ms: ${label}`);
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}
