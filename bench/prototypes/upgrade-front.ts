// Prototype upgrade fast path (measured in docs/benchmarks.md, not wired into the framework): parses a simple,
// complete WebSocket upgrade head itself and emits 'upgrade' without Node's HTTP parser; every other byte stream
// (HTTP requests, unusual or partial heads) goes to Node's own connection handling unchanged.
import { IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** Heads larger than this, or with more header lines, are left to Node's parser and its limits. */
const MAX_HEAD_BYTES = 8192;
const MAX_HEADER_LINES = 64;

/** RFC 9110 5.6.2 tchar, as a 128-entry table. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}

export interface UpgradeHead {
  url: string;
  rawHeaders: string[];
  /** Offset of the first byte after the head's final CRLF CRLF. */
  end: number;
}

/**
 * Parses `GET target HTTP/1.1` + header lines + CRLF CRLF, accepting only the strict subset that Node's
 * parser reads the same way: token names, visible-ASCII values (no obs-text, no obs-fold, no bare LF), no
 * body framing headers. Returns null for anything else, including a head that is not complete in `buf`,
 * and for requests that are not WebSocket upgrades: the caller then hands the bytes to Node.
 */
export function parseUpgradeHead(buf: Buffer, maxHeaderLines = MAX_HEADER_LINES): UpgradeHead | null {
  const n = Math.min(buf.length, MAX_HEAD_BYTES);
  if (n < 16 || buf[0] !== 0x47 || buf[1] !== 0x45 || buf[2] !== 0x54 || buf[3] !== 0x20) return null; // "GET "
  let i = 4;
  const targetStart = i;
  while (i < n && buf[i] > 0x20 && buf[i] < 0x7f) i++;
  if (i === targetStart || i + 10 > n) return null;
  // " HTTP/1.1\r\n"
  if (buf.toString('latin1', i, i + 11) !== ' HTTP/1.1\r\n') return null;
  const url = buf.toString('latin1', targetStart, i);
  i += 11;
  const rawHeaders: string[] = [];
  let upgrade = false;
  let connection = false;
  let host = false;
  for (;;) {
    if (i + 1 >= n) return null;
    if (buf[i] === 0x0d) {
      if (buf[i + 1] !== 0x0a) return null;
      i += 2;
      break;
    }
    if (rawHeaders.length >= maxHeaderLines * 2) return null;
    const nameStart = i;
    while (i < n && buf[i] < 0x80 && TCHAR[buf[i]] === 1) i++;
    if (i === nameStart || i >= n || buf[i] !== 0x3a) return null; // ':'
    const name = buf.toString('latin1', nameStart, i);
    i++;
    while (i < n && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
    const valueStart = i;
    let valueEnd = i;
    while (i < n && buf[i] !== 0x0d) {
      const c = buf[i];
      if ((c < 0x20 && c !== 0x09) || c >= 0x7f) return null;
      if (c !== 0x20 && c !== 0x09) valueEnd = i + 1;
      i++;
    }
    if (i + 1 >= n || buf[i + 1] !== 0x0a) return null;
    const value = buf.toString('latin1', valueStart, valueEnd);
    i += 2;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') host = true;
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') upgrade = /(?:^|[\s,])websocket(?:$|[\s,])/i.test(value);
        break;
      case 10:
        if (name.toLowerCase() === 'connection') connection = /(?:^|[\s,])upgrade(?:$|[\s,])/i.test(value);
        else if (name.toLowerCase() === 'set-cookie') return null; // Node makes it an array
        break;
      case 6:
        if (name.toLowerCase() === 'expect') return null;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') return null;
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') return null;
        break;
    }
    rawHeaders.push(name, value);
  }
  if (!upgrade || !connection || !host) return null;
  return { url, rawHeaders, end: i };
}

/** Builds the request object Node would have built: headers come from rawHeaders by Node's own code. */
function requestFor(socket: Socket, head: UpgradeHead): IncomingMessage {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = head.url;
  req.httpVersion = '1.1';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  // Node's own parser callback: records rawHeaders and the count its lazy `headers` getter reads.
  (req as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(
    head.rawHeaders,
    head.rawHeaders.length
  );
  (req as IncomingMessage & { upgrade: boolean }).upgrade = true;
  req.complete = true;
  return req;
}

export interface UpgradeFrontOptions {
  /** A socket that sends no byte within this time gets 408 and is closed (the server's headersTimeout). */
  headersTimeout: number;
}

/**
 * Puts the fast path in front of `server`'s own connection listener. Does nothing when that listener is
 * not Node's (someone else already took over the server's connections).
 */
export function installUpgradeFront(server: Server, { headersTimeout }: UpgradeFrontOptions): boolean {
  const listeners = server.listeners('connection');
  const nodeListener = listeners.find(l => l.name === 'connectionListener') as
    ((this: Server, socket: Socket) => void) | undefined;
  if (nodeListener === undefined) return false;
  const waiting = new Set<Socket>();

  const toNode = (socket: Socket, chunk: Buffer | null): void => {
    // Node's parser must read through 'data' events, where the first chunk was put back; consuming the
    // handle natively could let later bytes overtake it.
    const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
    if (handle) handle._consumed = true;
    socket.pause();
    if (chunk !== null) socket.unshift(chunk);
    nodeListener.call(server, socket);
    socket.resume();
  };

  const front = (socket: Socket): void => {
    waiting.add(socket);
    const timer = setTimeout(() => {
      waiting.delete(socket);
      socket.removeListener('data', first);
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroySoon();
    }, headersTimeout);
    const gone = (): void => {
      clearTimeout(timer);
      waiting.delete(socket);
    };
    socket.once('close', gone);
    socket.on('error', noop);
    function first(chunk: Buffer): void {
      gone();
      socket.removeListener('close', gone);
      socket.removeListener('error', noop);
      const max = server.maxHeadersCount;
      const limit = max !== null && max > 0 ? Math.min(MAX_HEADER_LINES, max - 1) : MAX_HEADER_LINES;
      const head = parseUpgradeHead(chunk, limit);
      if (head === null) return toNode(socket, chunk);
      // As Node does before 'upgrade': the upgrade handler decides when reading resumes.
      (socket as { readableFlowing: boolean | null }).readableFlowing = null;
      const req = requestFor(socket, head);
      if (!server.emit('upgrade', req, socket, chunk.subarray(head.end))) socket.destroy();
    }
    socket.once('data', first);
  };

  server.removeListener('connection', nodeListener);
  server.prependListener('connection', front);
  // server.close() ends idle sockets; one that has sent nothing yet is idle.
  for (const method of ['closeIdleConnections', 'closeAllConnections'] as const) {
    const original = server[method].bind(server);
    server[method] = () => {
      for (const socket of waiting) socket.destroy();
      waiting.clear();
      original();
    };
  }
  return true;
}

function noop(): void {}
