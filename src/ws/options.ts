// Plugin options: defaults, and validation that names the offending option.
import type { BroadcastAdapter } from './adapter.js';
import { constants } from 'node:buffer';
import type { DeflateSettings } from './deflate/context.js';
import { wsError } from './errors.js';
import type { ResolvedOptions } from './host.js';
import type { MessageRateSettings } from './limits/message-rate.js';
import { resolveClientLimits, resolveMessageRate, type ClientLimitsConfig } from './limits/options.js';
import { RECOVERY_DEFAULTS, type HistoryLimits } from './recovery/history.js';
import type { WebSocketPluginOptions } from './types.js';

export const DEFAULTS = {
  heartbeatMs: 30_000,
  pongTimeoutMs: 60_000,
  maxConnections: 1000,
  maxMessageSize: 16 * 1024 * 1024,
  closeTimeoutMs: 5_000,
  verifyTimeoutMs: 10_000,
  maxBackpressure: 4 * 1024 * 1024,
  backpressurePolicy: 'close',
} as const;

export interface PluginSettings extends ResolvedOptions {
  paths: string[];
  heartbeatMs: number;
  pongTimeoutMs: number;
  maxConnections: number;
  allowOrigins: (string | RegExp)[] | undefined;
  verifyClient: WebSocketPluginOptions['verifyClient'];
  verifyTimeoutMs: number;
  messageRate: MessageRateSettings | undefined;
  clientLimits: ClientLimitsConfig | undefined;
  debug: boolean;
  adapter: BroadcastAdapter | undefined;
  protocols: WebSocketPluginOptions['protocols'];
  perMessageDeflate: DeflateSettings | undefined;
  recovery: HistoryLimits | undefined;
}

export const DEFLATE_DEFAULTS = { threshold: 1024, level: 6, memLevel: 8, concurrencyLimit: 10 } as const;

const DEFLATE_KEYS = new Set([
  'threshold',
  'serverNoContextTakeover',
  'clientNoContextTakeover',
  'serverMaxWindowBits',
  'clientMaxWindowBits',
  'level',
  'memLevel',
  'concurrencyLimit',
]);

const RECOVERY_KEYS = new Set(['windowMs', 'maxMessages', 'maxRooms']);

function resolveRecovery(value: unknown): HistoryLimits | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object' || Array.isArray(value)))
    fail('recovery', 'a boolean or an object', value);
  const o = (value === true ? {} : value) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!RECOVERY_KEYS.has(key)) fail(`recovery.${key}`, 'absent: it is not an option', o[key]);
  }
  const d = RECOVERY_DEFAULTS;
  return {
    windowMs: integer('recovery.windowMs', o.windowMs, d.windowMs, 1, 2 ** 31 - 1),
    maxMessages: integer('recovery.maxMessages', o.maxMessages, d.maxMessages, 1, 1_000_000),
    maxRooms: integer('recovery.maxRooms', o.maxRooms, d.maxRooms, 1),
  };
}

function resolveDeflate(value: unknown): DeflateSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object' || Array.isArray(value)))
    fail('perMessageDeflate', 'a boolean or an object', value);
  const o = (value === true ? {} : value) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!DEFLATE_KEYS.has(key)) fail(`perMessageDeflate.${key}`, 'absent: it is not an option', o[key]);
  }
  const flag = (key: string): boolean => {
    const v = o[key];
    if (v !== undefined && typeof v !== 'boolean') fail(`perMessageDeflate.${key}`, 'a boolean', v);
    return v === true;
  };
  const bits = (key: string, min: number): number | undefined =>
    o[key] === undefined ? undefined : integer(`perMessageDeflate.${key}`, o[key], 15, min, 15);
  return {
    threshold: integer('perMessageDeflate.threshold', o.threshold, DEFLATE_DEFAULTS.threshold, 0),
    level: integer('perMessageDeflate.level', o.level, DEFLATE_DEFAULTS.level, 0, 9),
    memLevel: integer('perMessageDeflate.memLevel', o.memLevel, DEFLATE_DEFAULTS.memLevel, 1, 9),
    concurrencyLimit: integer(
      'perMessageDeflate.concurrencyLimit',
      o.concurrencyLimit,
      DEFLATE_DEFAULTS.concurrencyLimit,
      1,
      1024
    ),
    serverNoContextTakeover: flag('serverNoContextTakeover'),
    clientNoContextTakeover: flag('clientNoContextTakeover'),
    // zlib's raw deflate cannot use a 256-byte window (Node turns 8 into 9), so the server's minimum is 9.
    serverMaxWindowBits: bits('serverMaxWindowBits', 9),
    clientMaxWindowBits: bits('clientMaxWindowBits', 8),
  };
}

export function fail(name: string, expectation: string, value: unknown): never {
  throw wsError(
    'WS_ERR_INVALID_OPTION',
    `WebSocketPlugin: option "${name}" must be ${expectation} (got ${describe(value)})`
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function integer(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function resolveOptions(options: WebSocketPluginOptions = {}): PluginSettings {
  if (options === null || typeof options !== 'object') fail('options', 'an object', options);
  const rawPath = options.path;
  const paths = rawPath === undefined ? [] : Array.isArray(rawPath) ? rawPath : [rawPath];
  for (const p of paths) {
    if (typeof p !== 'string' || !p.startsWith('/'))
      fail('path', 'a path starting with "/" or a list of them', rawPath);
  }
  const origins = options.allowOrigins;
  if (origins !== undefined) {
    if (!Array.isArray(origins)) fail('allowOrigins', 'an array of strings and RegExps', origins);
    for (const o of origins) {
      if (typeof o !== 'string' && !(o instanceof RegExp))
        fail('allowOrigins', 'an array of strings and RegExps', origins);
    }
  }
  if (options.verifyClient !== undefined && typeof options.verifyClient !== 'function') {
    fail('verifyClient', 'a function', options.verifyClient);
  }
  if (options.debug !== undefined && typeof options.debug !== 'boolean')
    fail('debug', 'a boolean', options.debug);
  const policy = options.backpressurePolicy ?? DEFAULTS.backpressurePolicy;
  if (policy !== 'close' && policy !== 'drop') fail('backpressurePolicy', '"close" or "drop"', policy);
  const adapter = options.adapter;
  if (adapter !== undefined && (typeof adapter !== 'object' || typeof adapter.publish !== 'function')) {
    fail('adapter', 'a BroadcastAdapter', adapter);
  }
  const protocols = options.protocols;
  if (protocols !== undefined && typeof protocols !== 'function') {
    if (!Array.isArray(protocols) || protocols.some(p => typeof p !== 'string' || p === '')) {
      fail('protocols', 'an array of protocol names or a function', protocols);
    }
  }
  const maxBackpressure = integer('maxBackpressure', options.maxBackpressure, DEFAULTS.maxBackpressure, 1);
  return {
    paths,
    heartbeatMs: integer('heartbeatMs', options.heartbeatMs, DEFAULTS.heartbeatMs, 0, 2 ** 31 - 1),
    pongTimeoutMs: integer('pongTimeoutMs', options.pongTimeoutMs, DEFAULTS.pongTimeoutMs, 1, 2 ** 31 - 1),
    maxConnections: integer('maxConnections', options.maxConnections, DEFAULTS.maxConnections, 1),
    // A message is assembled in one Buffer, so it cannot exceed what a Buffer holds. Text messages are
    // further bounded by V8's string limit (constants.MAX_STRING_LENGTH, ~512 MiB): above it, 1009.
    maxMessageSize: integer(
      'maxMessageSize',
      options.maxMessageSize,
      DEFAULTS.maxMessageSize,
      1,
      Math.min(2 ** 32, constants.MAX_LENGTH)
    ),
    closeTimeoutMs: integer(
      'closeTimeoutMs',
      options.closeTimeoutMs,
      DEFAULTS.closeTimeoutMs,
      1,
      2 ** 31 - 1
    ),
    maxBackpressure,
    backpressurePolicy: policy,
    readPauseBytes: Math.ceil(maxBackpressure / 2),
    allowOrigins: origins === undefined || origins.includes('*') ? undefined : origins,
    verifyClient: options.verifyClient,
    verifyTimeoutMs: integer(
      'verifyTimeoutMs',
      options.verifyTimeoutMs,
      DEFAULTS.verifyTimeoutMs,
      1,
      2 ** 31 - 1
    ),
    debug: options.debug === true,
    adapter,
    protocols,
    perMessageDeflate: resolveDeflate(options.perMessageDeflate),
    messageRate: options.messageRate === undefined ? undefined : resolveMessageRate(options.messageRate),
    clientLimits: options.clientLimits === undefined ? undefined : resolveClientLimits(options.clientLimits),
    recovery: resolveRecovery(options.recovery),
  };
}

/** Whether an Origin header value is allowed by `allowOrigins` (origins compare case-insensitively). */
export function originAllowed(allowed: (string | RegExp)[] | undefined, origin: string | undefined): boolean {
  // Only browsers send Origin, and it protects browsers (RFC 6455 10.2); other clients can claim any
  // origin, so a request without one is not refused here (use verifyClient for a stricter policy).
  if (allowed === undefined || origin === undefined) return true;
  const lower = origin.toLowerCase();
  for (const rule of allowed) {
    if (typeof rule === 'string') {
      if (rule.toLowerCase() === lower) return true;
    } else {
      rule.lastIndex = 0;
      if (rule.test(origin)) return true;
    }
  }
  return false;
}
