// The `http2` option of listen(): its defaults and its validation (ERR_INVALID_OPTION), before any server is made.
import { Errors } from './errors.js';
import type { Http2Options } from './types.js';

/** What `http2: true` means. `maxConcurrentStreams` undefined keeps Node's default (no limit of its own). */
export const HTTP2_DEFAULTS = {
  sessionIdleTimeout: 60_000,
  maxSessionMemory: 64,
  maxConcurrentStreams: undefined,
} as const satisfies Http2Options;

export type ResolvedHttp2Options = { sessionIdleTimeout: number; maxSessionMemory: number } & Pick<
  Http2Options,
  'maxConcurrentStreams'
>;

// setTimeout() holds at most 2^31 - 1 ms; SETTINGS values are 32-bit (RFC 9113 §6.5.1).
const MAX_TIMEOUT = 2 ** 31 - 1;
const MAX_SETTING = 2 ** 32 - 1;

type Check = (value: number) => boolean;
const CHECKS: Record<keyof Http2Options, [Check, string]> = {
  sessionIdleTimeout: [
    v => Number.isInteger(v) && v >= 0 && v <= MAX_TIMEOUT,
    `an integer from 0 to ${MAX_TIMEOUT} (ms)`,
  ],
  maxSessionMemory: [v => Number.isFinite(v) && v >= 1, 'a number >= 1 (MB)'],
  maxConcurrentStreams: [
    v => Number.isInteger(v) && v >= 1 && v <= MAX_SETTING,
    `an integer from 1 to ${MAX_SETTING}`,
  ],
};

/** `listen({ http2 })` as the values the server is made with; throws ERR_INVALID_OPTION for a wrong one. */
export function resolveHttp2Options(http2: true | Http2Options): ResolvedHttp2Options {
  if (http2 === true) return { ...HTTP2_DEFAULTS };
  if (typeof http2 !== 'object' || http2 === null || Array.isArray(http2))
    throw Errors.invalidOption('listen(): http2 must be true or an object of HTTP/2 options');
  for (const [key, value] of Object.entries(http2)) {
    const check = CHECKS[key as keyof Http2Options] as [Check, string] | undefined;
    if (check === undefined)
      throw Errors.invalidOption(
        `listen(): unknown http2 option "${key}" (${Object.keys(CHECKS).join(', ')})`
      );
    if (value !== undefined && (typeof value !== 'number' || !check[0](value)))
      throw Errors.invalidOption(`listen(): http2.${key} must be ${check[1]}, got ${String(value)}`);
  }
  const defined = Object.fromEntries(Object.entries(http2).filter(([, v]) => v !== undefined));
  return { ...HTTP2_DEFAULTS, ...defined };
}
