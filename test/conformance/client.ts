// A raw RFC 6455 test client over node:net or an HTTP/2 stream (RFC 8441): handshake, frame I/O through test/support/frames.ts, expectations.
import { createHash, randomBytes } from 'node:crypto';
import type { ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import { clientFrame, FrameReader, type Frame } from '../support/frames.js';

export const Op = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** RFC 6455 section 1.3: the GUID appended to the client's key to form Sec-WebSocket-Accept. */
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function toBuffer(p: Buffer | string | undefined): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/** Splits a message into masked fragments of `size` bytes (the last may be shorter). */
export function buildFragments(opcode: number, payload: Buffer | string, size: number): Buffer {
  const data = toBuffer(payload);
  const parts: Buffer[] = [];
  let offset = 0;
  do {
    const end = Math.min(offset + size, data.length);
    parts.push(
      clientFrame({
        opcode: offset === 0 ? opcode : Op.Continuation,
        payload: data.subarray(offset, end),
        fin: end === data.length,
      })
    );
    offset = end;
  } while (offset < data.length);
  return Buffer.concat(parts);
}

/** A close frame payload: 2-byte code then the reason (RFC 6455 section 5.5.1). */
export function closePayload(code: number, reason: Buffer | string = ''): Buffer {
  const r = toBuffer(reason);
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

export type Chunking = 'whole' | 'bytewise' | number;

export type ConnEvent = { kind: 'frame'; frame: Frame } | { kind: 'tcp-closed'; detail: string };

/** A failed expectation; the message says what was expected and what arrived. */
export class ExpectationError extends Error {}

/** RFC 6455 section 7.4.1 / 7.4.2: codes an endpoint may send in a close frame. */
export function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function describeFrame(f: Frame): string {
  const name =
    {
      0: 'continuation',
      1: 'text',
      2: 'binary',
      8: 'close',
      9: 'ping',
      10: 'pong',
    }[f.opcode] ?? `opcode ${f.opcode}`;
  const extra = f.opcode === Op.Close && f.payload.length >= 2 ? ` code ${f.payload.readUInt16BE(0)}` : '';
  return `${name} frame (fin=${f.fin}, ${f.payload.length} bytes${extra})`;
}

/** One client connection over raw TCP. */
export class RawConnection {
  private readonly events: ConnEvent[] = [];
  private wake: (() => void) | undefined;
  private tcpClosed: ConnEvent | undefined;
  /** True once we have written a close frame (we never send a second one). */
  closeSent = false;
  /** True once a close frame from the server has been read. */
  closeReceived = false;

  /** The server's Sec-WebSocket-Extensions answer ('' when none). */
  extensions = '';

  private constructor(
    /** A TCP socket, or the HTTP/2 stream that carries the WebSocket (its end stands for TCP's). */
    private readonly socket: Duplex,
    private readonly reader: FrameReader
  ) {}

  /**
   * Opens a WebSocket on a new stream of an HTTP/2 session (RFC 8441 §5: extended CONNECT, `:status 200`,
   * no key or accept). What the suite calls "TCP" below is then this stream.
   */
  static async openH2(
    session: ClientHttp2Session,
    path = '/',
    timeoutMs = 5000,
    offer?: string
  ): Promise<RawConnection> {
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': path,
        'sec-websocket-version': '13',
        ...(offer === undefined ? {} : { 'sec-websocket-extensions': offer }),
      },
      { endStream: false }
    );
    stream.pause();
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('handshake: no :status in time')), timeoutMs);
      stream.once('response', h => {
        clearTimeout(timer);
        resolve(h);
      });
      stream.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const problems: string[] = [];
    if (headers[':status'] !== 200) problems.push(`:status ${String(headers[':status'])}`);
    const answered =
      typeof headers['sec-websocket-extensions'] === 'string' ? headers['sec-websocket-extensions'] : '';
    if (offer === undefined && answered !== '') problems.push('unrequested sec-websocket-extensions');
    if (problems.length) {
      stream.destroy();
      throw new Error(`handshake: bad ${problems.join(', ')}`);
    }
    const conn = new RawConnection(stream, new FrameReader());
    conn.extensions = answered;
    conn.attach(Buffer.alloc(0));
    return conn;
  }

  /** Opens a TCP connection and performs the opening handshake (RFC 6455 section 4.1). */
  static async open(
    port: number,
    path = '/',
    timeoutMs = 5000,
    /** A Sec-WebSocket-Extensions offer (compression cases); none by default. */
    offer?: string
  ): Promise<RawConnection> {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    const expectedAccept = createHash('sha1')
      .update(key + ACCEPT_GUID)
      .digest('base64');
    let answered = '';
    const leftover = await new Promise<Buffer>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error('handshake: no 101 response in time')), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.destroy();
        reject(err);
      };
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('error', fail);
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
        }
        const problems: string[] = [];
        if (!/^HTTP\/1\.1 101\b/.test(lines[0] ?? '')) problems.push(`status line "${lines[0]}"`);
        if (headers.get('upgrade')?.toLowerCase() !== 'websocket') problems.push('Upgrade header');
        if (!/\bupgrade\b/i.test(headers.get('connection') ?? '')) problems.push('Connection header');
        if (headers.get('sec-websocket-accept') !== expectedAccept) problems.push('Sec-WebSocket-Accept');
        // RFC 6455 section 4.1: the server must not select an extension the client did not offer.
        answered = headers.get('sec-websocket-extensions') ?? '';
        if (offer === undefined && headers.has('sec-websocket-extensions'))
          problems.push('unrequested Sec-WebSocket-Extensions');
        if (problems.length) return fail(new Error(`handshake: bad ${problems.join(', ')}`));
        socket.pause();
        resolve(head.subarray(end + 4));
      };
      socket.on('data', onData);
      socket.once('error', fail);
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          (offer === undefined ? '' : `Sec-WebSocket-Extensions: ${offer}\r\n`) +
          '\r\n'
      );
    });
    const conn = new RawConnection(socket, new FrameReader());
    conn.extensions = answered;
    conn.attach(leftover);
    return conn;
  }

  private attach(leftover: Buffer): void {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.onTcpClosed('server closed TCP (FIN) or the stream (END_STREAM)'));
    this.socket.on('close', () => this.onTcpClosed('TCP connection closed'));
    this.socket.on('error', err => this.onTcpClosed(`socket error ${(err as NodeJS.ErrnoException).code}`));
    if (leftover.length) this.onData(leftover);
    this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.reader.push(chunk)) {
      // A server may ping on its own (heartbeat); answer it and keep it out of the expectations.
      if (frame.opcode === Op.Ping && !this.closeSent) {
        this.socket.write(clientFrame({ opcode: Op.Pong, payload: frame.payload }));
        continue;
      }
      if (frame.opcode === Op.Close) this.closeReceived = true;
      this.push({ kind: 'frame', frame });
    }
  }

  private onTcpClosed(detail: string): void {
    if (this.tcpClosed) return;
    this.tcpClosed = { kind: 'tcp-closed', detail };
    this.push(this.tcpClosed);
  }

  private push(ev: ConnEvent): void {
    this.events.push(ev);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Next frame or TCP close, or an ExpectationError after `timeoutMs` (a safety net, not a timing check). */
  async next(what: string, timeoutMs: number): Promise<ConnEvent> {
    if (!this.events.length) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.wake = undefined;
          reject(new ExpectationError(`expected ${what}, but nothing arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const ev = this.events.shift()!;
    // Keep reporting the TCP close to later expectations.
    if (ev.kind === 'tcp-closed') this.events.unshift(ev);
    return ev;
  }

  /** Writes bytes in one write, byte by byte, or in chunks of n bytes, each write flushed before the next. */
  async write(bytes: Buffer, chunking: Chunking = 'whole', stopWhenClosed = false): Promise<void> {
    const size = chunking === 'whole' ? Math.max(bytes.length, 1) : chunking === 'bytewise' ? 1 : chunking;
    for (let off = 0; off < bytes.length; off += size) {
      if (this.tcpClosed || (stopWhenClosed && this.closeReceived)) return;
      const chunk = bytes.subarray(off, off + size);
      await new Promise<void>(resolve => this.socket.write(chunk, () => resolve()));
    }
  }

  /** Reads one complete message (the server may fragment it); fails on anything else. */
  async expectMessage(opcode: number, payload: Buffer, timeoutMs: number): Promise<void> {
    const want = `${opcode === Op.Text ? 'text' : 'binary'} message of ${payload.length} bytes`;
    const parts: Buffer[] = [];
    let first = true;
    let compressed = false;
    for (;;) {
      const ev = await this.next(want, timeoutMs);
      if (ev.kind === 'tcp-closed') throw new ExpectationError(`expected ${want}, got: ${ev.detail}`);
      const f = ev.frame;
      this.checkServerFrame(f);
      const okOpcode = first ? f.opcode === opcode : f.opcode === Op.Continuation;
      if (!okOpcode) throw new ExpectationError(`expected ${want}, got ${describeFrame(f)}`);
      if (first) compressed = f.rsv === 4;
      else if (f.rsv !== 0) throw new ExpectationError('server set RSV bits on a continuation frame');
      parts.push(f.payload);
      first = false;
      if (f.fin) break;
    }
    // RFC 7692 7.2.2: append 00 00 ff ff and inflate. Each message is inflated on its own, so compression
    // cases offer server_no_context_takeover.
    const got = compressed
      ? inflateRawSync(Buffer.concat([...parts, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: 2 })
      : Buffer.concat(parts);
    if (!got.equals(payload)) {
      let i = 0;
      while (i < got.length && i < payload.length && got[i] === payload[i]) i++;
      throw new ExpectationError(`${want}: echo differs (got ${got.length} bytes, first difference at ${i})`);
    }
  }

  async expectPong(payload: Buffer, timeoutMs: number): Promise<void> {
    const want = `pong with ${payload.length}-byte payload`;
    const ev = await this.next(want, timeoutMs);
    if (ev.kind === 'tcp-closed') throw new ExpectationError(`expected ${want}, got: ${ev.detail}`);
    this.checkServerFrame(ev.frame);
    if (ev.frame.opcode !== Op.Pong)
      throw new ExpectationError(`expected ${want}, got ${describeFrame(ev.frame)}`);
    if (!ev.frame.payload.equals(payload)) throw new ExpectationError(`${want}: payload differs`);
  }

  /**
   * Expects the server's close frame with one of `codes` ('empty' = no payload), answers it if we have
   * not sent a close yet, then expects the server to close TCP (RFC 6455 section 7.1.1: the server
   * closes the TCP connection first). TCP closing before the close frame arrives is a failure.
   */
  async expectClose(
    codes: (number | 'empty')[],
    reason: Buffer | undefined,
    timeoutMs: number
  ): Promise<void> {
    const want = `close frame with ${codes.join(' or ')}`;
    const ev = await this.next(want, timeoutMs);
    if (ev.kind === 'tcp-closed') {
      throw new ExpectationError(`expected ${want}, but ${ev.detail} without a close frame`);
    }
    const f = ev.frame;
    this.checkServerFrame(f);
    if (f.opcode !== Op.Close) throw new ExpectationError(`expected ${want}, got ${describeFrame(f)}`);
    if (f.payload.length === 1) throw new ExpectationError('server sent a 1-byte close payload');
    const got: number | 'empty' = f.payload.length === 0 ? 'empty' : f.payload.readUInt16BE(0);
    if (!codes.includes(got)) throw new ExpectationError(`expected ${want}, got close ${got}`);
    if (got !== 'empty' && !isSendableCloseCode(got))
      throw new ExpectationError(`server sent close code ${got}`);
    const gotReason = f.payload.subarray(2);
    try {
      fatalUtf8.decode(gotReason);
    } catch {
      throw new ExpectationError('server close reason is not valid UTF-8');
    }
    if (reason && !gotReason.equals(reason)) {
      throw new ExpectationError(`close reason differs: got "${gotReason.toString('utf8')}"`);
    }
    if (!this.closeSent) {
      this.closeSent = true;
      this.socket.write(
        clientFrame({ opcode: Op.Close, payload: got === 'empty' ? undefined : closePayload(got) })
      );
    }
    const after = await this.next('server to close TCP after the close handshake', timeoutMs);
    if (after.kind === 'frame') {
      throw new ExpectationError(`server sent a ${describeFrame(after.frame)} after its close frame`);
    }
  }

  /** RFC 6455 section 5.1/5.2/5.5: server frames are unmasked, RSV clear (no extension), control frames short and final. */
  private checkServerFrame(f: Frame): void {
    if (f.masked) throw new ExpectationError('server sent a masked frame');
    // RFC 7692 6: with permessage-deflate agreed, RSV1 may mark a compressed data message.
    const rsv1Allowed = this.extensions.startsWith('permessage-deflate') && f.opcode !== 0 && f.opcode < 8;
    if (f.rsv !== 0 && !(f.rsv === 4 && rsv1Allowed))
      throw new ExpectationError('server sent a frame with RSV bits set');
    if (f.opcode >= 8 && (!f.fin || f.payload.length > 125)) {
      throw new ExpectationError(`server sent an invalid control frame: ${describeFrame(f)}`);
    }
  }

  /** Marks our close as sent (when a case writes its own close frame). */
  noteCloseSent(): void {
    this.closeSent = true;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
