// Validation and defaults of the messageRate and clientLimits options (both off unless given).
import { fail, integer } from '../options.js';
import type { ClientLimitSettings } from './client-limits.js';
import type { MessageRateSettings } from './message-rate.js';
import type { ClientLimitsOptions, MessageRateOptions } from './types.js';

export const LIMIT_DEFAULTS = { burst: 2, policy: 'close', maxKeys: 10_000 } as const;

const MESSAGE_RATE_KEYS = new Set(['messagesPerSecond', 'bytesPerSecond', 'burst', 'policy', 'onLimit']);
const CLIENT_LIMITS_KEYS = new Set(['maxConnections', 'upgradesPerMinute', 'key', 'maxKeys', 'onRefuse']);

function optionObject(name: string, value: unknown, keys: Set<string>): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(name, 'an object', value);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!keys.has(key)) fail(`${name}.${key}`, 'absent: it is not an option', o[key]);
  }
  return o;
}

/** A positive finite number, or 0 when absent (0 = that budget is not limited). */
function rate(name: string, value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(name, 'a positive number', value);
  }
  return value;
}

function optionalFunction<T>(name: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(name, 'a function', value);
  return value as T | undefined;
}

export function resolveMessageRate(value: MessageRateOptions): MessageRateSettings {
  const o = optionObject('messageRate', value, MESSAGE_RATE_KEYS);
  const messagesPerSecond = rate('messageRate.messagesPerSecond', o.messagesPerSecond);
  const bytesPerSecond = rate('messageRate.bytesPerSecond', o.bytesPerSecond);
  if (messagesPerSecond === 0 && bytesPerSecond === 0) {
    fail('messageRate', 'an object with messagesPerSecond, bytesPerSecond or both', value);
  }
  const burst = o.burst === undefined ? LIMIT_DEFAULTS.burst : rate('messageRate.burst', o.burst);
  const policy = o.policy ?? LIMIT_DEFAULTS.policy;
  if (policy !== 'close' && policy !== 'drop') fail('messageRate.policy', '"close" or "drop"', policy);
  return {
    messagesPerSecond,
    bytesPerSecond,
    // A bucket smaller than one message would refuse everything.
    messageBurst: Math.max(1, messagesPerSecond * burst),
    byteBurst: Math.max(1, bytesPerSecond * burst),
    policy,
    onLimit: optionalFunction('messageRate.onLimit', o.onLimit),
  };
}

export interface ClientLimitsConfig extends ClientLimitSettings {
  key: ClientLimitsOptions['key'];
  onRefuse: ClientLimitsOptions['onRefuse'];
}

/** `name` is how errors name the option: `clientLimits` of the plugin, or the `wsRateLimit` helper's. */
export function resolveClientLimits(value: ClientLimitsOptions, name = 'clientLimits'): ClientLimitsConfig {
  const o = optionObject(name, value, CLIENT_LIMITS_KEYS);
  const maxConnections = integer(`${name}.maxConnections`, o.maxConnections, 0, 1);
  const upgradesPerMinute = integer(`${name}.upgradesPerMinute`, o.upgradesPerMinute, 0, 1);
  if (maxConnections === 0 && upgradesPerMinute === 0) {
    fail(name, 'an object with maxConnections, upgradesPerMinute or both', value);
  }
  return {
    maxConnections,
    upgradesPerMinute,
    maxKeys: integer(`${name}.maxKeys`, o.maxKeys, LIMIT_DEFAULTS.maxKeys, 2),
    key: optionalFunction(`${name}.key`, o.key),
    onRefuse: optionalFunction(`${name}.onRefuse`, o.onRefuse),
  };
}
