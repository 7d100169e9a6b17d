// Sec-WebSocket-Extensions parsing (RFC 6455 9.1) and permessage-deflate negotiation (RFC 7692 7.1).

/** One extension offered by the client, with its parameters in the order given (a Map: no prototype keys). */
export interface ExtensionOffer {
  name: string;
  /** Parameter name -> value; `true` for a parameter given without a value. First occurrence wins. */
  params: Map<string, string | true>;
  /** A parameter name appeared more than once (RFC 7692 7: such an offer must be declined). */
  duplicated: boolean;
}

/** What the server is willing to do, from the `perMessageDeflate` option. */
export interface DeflateConfig {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** Largest LZ77 window the server compresses with (9-15), or undefined for no preference (15). */
  serverMaxWindowBits: number | undefined;
  /** Largest window the server asks the client to compress with (8-15), when the client allows it. */
  clientMaxWindowBits: number | undefined;
}

/** The agreed parameters of one connection. */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** Window bits the server's compressor uses (9-15). */
  serverWindowBits: number;
  /** Window bits the client may use (8-15); the server inflates with max(9, this). */
  clientWindowBits: number;
}

export interface DeflateAgreement {
  params: DeflateParams;
  /** The `Sec-WebSocket-Extensions` value of the 101 response. */
  header: string;
}

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** RFC 7230 3.2.6 tchar, as a lookup table over ASCII. */
const TCHAR = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) TCHAR[c] = 1;
for (const ch of '()<>@,;:\\"/[]?={}') TCHAR[ch.charCodeAt(0)] = 0;

function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

function isTokenString(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isTchar(value.charCodeAt(i))) return false;
  return true;
}

/**
 * Parses `Sec-WebSocket-Extensions` (one header or several, which HTTP joins with commas):
 *   extension-list = 1#extension; extension = token *( ";" param ); param = token [ "=" (token / quoted-string) ]
 * A single left-to-right scan, so linear in the header's length. Returns undefined when the header is
 * malformed; the caller then declines every extension.
 */
export function parseExtensions(value: string | string[] | undefined): ExtensionOffer[] | undefined {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(',') : value;
  const n = text.length;
  const offers: ExtensionOffer[] = [];
  let i = 0;

  const skipSpace = (): void => {
    while (i < n && (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && isTchar(text.charCodeAt(i))) i++;
    return text.slice(start, i);
  };

  for (;;) {
    skipSpace();
    if (i >= n) return offers;
    // RFC 7230 7: the #rule allows empty list elements.
    if (text.charCodeAt(i) === 0x2c) {
      i++;
      continue;
    }
    const name = token();
    if (name === '') return undefined;
    const offer: ExtensionOffer = { name, params: new Map(), duplicated: false };
    skipSpace();
    while (i < n && text.charCodeAt(i) === 0x3b /* ; */) {
      i++;
      skipSpace();
      const key = token();
      if (key === '') return undefined;
      skipSpace();
      let param: string | true = true;
      if (i < n && text.charCodeAt(i) === 0x3d /* = */) {
        i++;
        skipSpace();
        if (i < n && text.charCodeAt(i) === 0x22 /* " */) {
          i++;
          const pieces: string[] = [];
          let start = i;
          while (i < n && text.charCodeAt(i) !== 0x22) {
            if (text.charCodeAt(i) === 0x5c /* \ */) {
              pieces.push(text.slice(start, i));
              i++;
              if (i >= n) return undefined;
              start = i;
            }
            i++;
          }
          if (i >= n) return undefined;
          pieces.push(text.slice(start, i));
          i++;
          param = pieces.join('');
          // RFC 6455 9.1: "the value after quoted-string unescaping MUST conform to the 'token' ABNF."
          if (!isTokenString(param)) return undefined;
        } else {
          param = token();
          if (param === '') return undefined;
        }
        skipSpace();
      }
      if (offer.params.has(key)) offer.duplicated = true;
      else offer.params.set(key, param);
    }
    offers.push(offer);
    if (i >= n) return offers;
    if (text.charCodeAt(i) !== 0x2c) return undefined;
    i++;
  }
}

/** RFC 7692 7.1.2.1: "The value MUST be an integer between 8 and 15 inclusive", written without leading zeros. */
function windowBits(value: string): number | undefined {
  if (value.length === 1) return value === '8' || value === '9' ? Number(value) : undefined;
  if (value.length === 2 && value[0] === '1' && value[1] >= '0' && value[1] <= '5') return Number(value);
  return undefined;
}

/**
 * Accepts one permessage-deflate offer, or returns undefined to decline it (RFC 7692 5: the server
 * "MUST decline an extension negotiation offer" it cannot accept, and may try the next one).
 */
export function acceptDeflateOffer(offer: ExtensionOffer, config: DeflateConfig): DeflateParams | undefined {
  // RFC 7692 7: decline an offer that has "an extension parameter not defined", "an extension parameter
  // with an invalid value", or "multiple extension parameters with the same name".
  if (offer.duplicated) return undefined;
  let serverNoContextTakeover = config.serverNoContextTakeover;
  let clientNoContextTakeover = config.clientNoContextTakeover;
  let serverWindowBits = config.serverMaxWindowBits ?? 15;
  let clientWindowBits = 15;
  for (const [key, value] of offer.params) {
    switch (key) {
      case 'server_no_context_takeover':
        // RFC 7692 7.1.1.1: this parameter has no value.
        if (value !== true) return undefined;
        serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        // RFC 7692 7.1.1.2: no value; the server may include it in the response even when not offered.
        if (value !== true) return undefined;
        clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        // RFC 7692 7.1.2.1: the server must compress with at most this many window bits.
        if (value === true) return undefined;
        const bits = windowBits(value);
        if (bits === undefined) return undefined;
        if (bits < serverWindowBits) serverWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        // RFC 7692 7.1.2.2: "This parameter may have no value", meaning the client supports limiting it.
        if (value !== true) {
          const bits = windowBits(value);
          if (bits === undefined) return undefined;
          clientWindowBits = bits;
        }
        if (config.clientMaxWindowBits !== undefined && config.clientMaxWindowBits < clientWindowBits)
          clientWindowBits = config.clientMaxWindowBits;
        break;
      }
      default:
        return undefined;
    }
  }
  // zlib cannot deflate raw data with a 256-byte window (Node silently uses 512), and a client that
  // asked for server_max_window_bits=8 may not inflate a 512-byte window: decline rather than break it.
  if (serverWindowBits < 9) return undefined;
  return { serverNoContextTakeover, clientNoContextTakeover, serverWindowBits, clientWindowBits };
}

/** The response's extension string for agreed parameters (RFC 7692 7.1). */
export function formatDeflateResponse(params: DeflateParams, offer: ExtensionOffer): string {
  let header = PERMESSAGE_DEFLATE;
  if (params.serverNoContextTakeover) header += '; server_no_context_takeover';
  if (params.clientNoContextTakeover) header += '; client_no_context_takeover';
  if (params.serverWindowBits < 15 || offer.params.has('server_max_window_bits'))
    header += `; server_max_window_bits=${params.serverWindowBits}`;
  // RFC 7692 7.1.2.2: the response MUST NOT carry client_max_window_bits unless the offer had it.
  if (offer.params.has('client_max_window_bits') && params.clientWindowBits < 15)
    header += `; client_max_window_bits=${params.clientWindowBits}`;
  return header;
}

/** Picks the first acceptable permessage-deflate offer of a request (RFC 7692 5), or undefined. */
export function negotiateDeflate(
  header: string | string[] | undefined,
  config: DeflateConfig
): DeflateAgreement | undefined {
  const offers = parseExtensions(header);
  if (offers === undefined) return undefined;
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const params = acceptDeflateOffer(offer, config);
    if (params !== undefined) return { params, header: formatDeflateResponse(params, offer) };
  }
  return undefined;
}
