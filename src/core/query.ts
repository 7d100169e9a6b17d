// Query-string and urlencoded parsing into null-prototype objects, so `__proto__` is just a key.
export type QueryObject = Record<string, string | string[]>;

/** Parses `a=1&b=2&a=3` into `{ a: ['1', '3'], b: '2' }`; malformed escapes are kept as written. */
export function parseQuery(input: string): QueryObject {
  const out = Object.create(null) as QueryObject;
  if (input === '') return out;
  for (const [key, value] of new URLSearchParams(input)) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}
