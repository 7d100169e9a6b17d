// Token-bucket arithmetic shared by the message-rate meter and the per-client upgrade limiter (pure functions).

/**
 * The tokens a bucket holds `elapsedMs` after it held `tokens`, refilled at `perSecond` and capped at
 * `capacity`. A bucket in debt (negative tokens) refills the same way.
 */
export function refilled(tokens: number, elapsedMs: number, perSecond: number, capacity: number): number {
  // A clock that went backwards (or did not move) adds nothing.
  if (elapsedMs <= 0) return tokens;
  const next = tokens + (elapsedMs * perSecond) / 1000;
  return next > capacity ? capacity : next;
}

/** Milliseconds until a bucket holding `tokens` holds `needed`, refilling at `perSecond` (0 when it already does). */
export function msUntil(tokens: number, needed: number, perSecond: number): number {
  return tokens >= needed ? 0 : ((needed - tokens) * 1000) / perSecond;
}
