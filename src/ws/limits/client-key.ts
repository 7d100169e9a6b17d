// The default client key of the abuse limits: an IPv4 address as it is, an IPv6 address by its /64 prefix.
import { isIPv4, isIPv6 } from 'node:net';

/**
 * One IPv6 host is normally given a whole /64 (RFC 4291 2.5.1 interface identifiers are 64 bits; SLAAC
 * and privacy addresses, RFC 8981, pick new ones freely), so keying on the full address would let one
 * client cycle through 2^64 keys and escape every per-client limit. IPv4-mapped addresses
 * (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4 peer) key as the IPv4 address.
 * Anything that is not an IP address (a custom proxy header, a unix socket's '') is returned unchanged.
 */
export function clientKey(address: string): string {
  if (!address.includes(':')) return address;
  const zone = address.indexOf('%');
  const ip = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(ip)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null && isIPv4(mapped[1])) return mapped[1];
  return `${prefix64(ip)}::/64`;
}

/** The first four 16-bit groups of a valid IPv6 address, in lower case without leading zeros. */
function prefix64(ip: string): string {
  const gap = ip.indexOf('::');
  const head = gap === -1 ? ip : ip.slice(0, gap);
  const groups = head === '' ? [] : head.split(':');
  // With '::' the groups after it are never among the first four unless the head is short: fill zeros.
  // An embedded IPv4 tail (RFC 4291 2.2 form 3) only ever occupies the last 32 bits, past the prefix.
  if (gap !== -1) {
    const tail = ip.slice(gap + 2);
    const tailGroups = tail === '' ? [] : tail.split(':');
    const tailCount = tailGroups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
    const zeros = 8 - groups.length - tailCount;
    for (let i = 0; i < zeros; i++) groups.push('0');
    for (const g of tailGroups) groups.push(g);
  }
  return groups
    .slice(0, 4)
    .map(g => parseInt(g, 16).toString(16))
    .join(':');
}
