// The generic conformance driver: cases are tables of steps; this runs each as its own node:test case.
import { after, before, describe, it } from 'node:test';
import type { ClientHttp2Session } from 'node:http2';
import {
  SERVER_SUPPORTS_HTTP2,
  SERVER_UNDER_TEST,
  startServer,
  type ServerOptions,
  type ServerUnderTest,
} from '../support/server-under-test.js';
import { clientFrame, type FrameSpec } from '../support/frames.js';
import { closePayload, Op, RawConnection, type Chunking } from './client.js';

export type CloseCode = number | 'empty';

export type Step =
  | { do: 'send'; bytes: Buffer; chunking?: Chunking; sendsClose?: boolean; stopWhenClosed?: boolean }
  | { do: 'message'; opcode: number; payload: Buffer }
  | { do: 'pong'; payload: Buffer }
  | { do: 'close'; codes: CloseCode[]; reason?: Buffer };

export interface Case {
  /** Stable id, `<section>.<group>.<n>`. */
  id: string;
  /** What is sent and what must come back. */
  title: string;
  /** The conversation; a function for cases with big payloads, so they are built only while they run. */
  steps: Step[] | (() => Step[]);
  /** Tags let KNOWN_STANDIN_DEVIATIONS name a family of cases. */
  tags?: string[];
  /** Safety-net timeout per expectation (default 4000 ms). */
  timeoutMs?: number;
}

/**
 * Where the `ws` stand-in is known to fall short of this suite. Applied ONLY while the stand-in is the
 * server: those cases are still run, strictly, and must fail (if one passes, the entry is stale).
 * Against nextrush-v2 the list is ignored and every case must pass.
 */
export const KNOWN_STANDIN_DEVIATIONS: { tag: string; why: string }[] = [
  {
    tag: 'utf8-fail-fast',
    why: 'ws validates UTF-8 only once a fragmented text message is complete, not at the first bad fragment',
  },
  {
    tag: 'length-msb',
    why: 'ws answers a 64-bit length with the most significant bit set with 1009 instead of 1002',
  },
];

// ---- step builders: a case reads as the conversation it has with the server ----

export type SendStep = Extract<Step, { do: 'send' }>;

export const send = (...frames: Buffer[]): SendStep => ({ do: 'send', bytes: Buffer.concat(frames) });
export const sendChunked = (chunking: Chunking, ...frames: Buffer[]): SendStep => ({
  do: 'send',
  bytes: Buffer.concat(frames),
  chunking,
});
/** Sends a close frame (code and reason, or no payload when code is undefined). */
export const sendClose = (code?: number, reason: Buffer | string = ''): SendStep => ({
  do: 'send',
  bytes: clientFrame({
    opcode: Op.Close,
    payload: code === undefined ? undefined : closePayload(code, reason),
  }),
  sendsClose: true,
});
export const expectEcho = (opcode: number, payload: Buffer | string): Step => ({
  do: 'message',
  opcode,
  payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
});
export const expectPong = (payload: Buffer | string = Buffer.alloc(0)): Step => ({
  do: 'pong',
  payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
});
/** The server's close frame with one of `codes`, then the server closing TCP. */
export const expectClose = (codes: CloseCode | CloseCode[], reason?: Buffer | string): Step => ({
  do: 'close',
  codes: Array.isArray(codes) ? codes : [codes],
  reason: typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason,
});

// ---- frame shorthands ----

type Opts = Omit<FrameSpec, 'opcode' | 'payload'>;
export const text = (p: Buffer | string = '', o: Opts = {}): Buffer =>
  clientFrame({ ...o, opcode: Op.Text, payload: p });
export const binary = (p: Buffer | string = Buffer.alloc(0), o: Opts = {}): Buffer =>
  clientFrame({ ...o, opcode: Op.Binary, payload: p });
export const cont = (p: Buffer | string = '', o: Opts = {}): Buffer =>
  clientFrame({ ...o, opcode: Op.Continuation, payload: p });
export const ping = (p: Buffer | string = '', o: Opts = {}): Buffer =>
  clientFrame({ ...o, opcode: Op.Ping, payload: p });
export const pong = (p: Buffer | string = '', o: Opts = {}): Buffer =>
  clientFrame({ ...o, opcode: Op.Pong, payload: p });
export const frame = (opcode: number, p: Buffer | string = '', o: Opts = {}): Buffer =>
  clientFrame({ ...o, opcode, payload: p });

/** A close frame as bytes (for cases that tamper with it; `sendClose` is the usual way to close). */
export const closeFrame = (code?: number, reason: Buffer | string = '', o: Opts = {}): Buffer =>
  clientFrame({
    ...o,
    opcode: Op.Close,
    payload: code === undefined ? undefined : closePayload(code, reason),
  });

/**
 * Deterministic pseudo-random bytes, so a failing case is reproducible. Big buffers repeat a block of
 * 65521 bytes (a prime, so the pattern never lines up with power-of-two fragment sizes and a misplaced
 * fragment still shows as a difference).
 */
export function bytes(n: number, seed = n): Buffer {
  const block = Math.min(n, 65521);
  const out = Buffer.allocUnsafe(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < block; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  for (let filled = block; filled < n; filled *= 2) out.copy(out, filled, 0, Math.min(filled, n - filled));
  return out;
}

const ALPHABET =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_+*/=()[]{}<>@#$%^&~|';

/** Printable ASCII of n bytes (valid UTF-8 whatever the length; the pattern repeats every 91 bytes). */
export function asciiBytes(n: number): Buffer {
  return Buffer.alloc(n, ALPHABET);
}

export function ascii(n: number): string {
  return asciiBytes(n).toString('latin1');
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

// ---- running ----

const HANDSHAKE_TIMEOUT_MS = 20_000;

async function runSteps(
  server: ServerUnderTest,
  c: Case,
  offer: string | undefined,
  session: ClientHttp2Session | undefined
): Promise<void> {
  const timeout = c.timeoutMs ?? 4000;
  // The handshake is not what these cases test, and 16 run at once: on a loaded machine (CI, other
  // suites in parallel) a 101 (or a :status 200) can take seconds, so its deadline is a generous safety net.
  const handshakeTimeout = Math.max(timeout, HANDSHAKE_TIMEOUT_MS);
  const conn = session
    ? await RawConnection.openH2(session, '/', handshakeTimeout, offer)
    : await RawConnection.open(server.port, '/', handshakeTimeout, offer);
  try {
    let steps = typeof c.steps === 'function' ? c.steps() : c.steps;
    // A case that does not end with a close ends with an orderly one, which also proves the server
    // sent nothing unexpected after the last expected frame.
    if (steps[steps.length - 1]?.do !== 'close') steps = [...steps, sendClose(1000), expectClose(1000)];
    for (const step of steps) {
      switch (step.do) {
        case 'send':
          if (step.sendsClose) conn.noteCloseSent();
          await conn.write(step.bytes, step.chunking, step.stopWhenClosed);
          break;
        case 'message':
          await conn.expectMessage(step.opcode, step.payload, timeout);
          break;
        case 'pong':
          await conn.expectPong(step.payload, timeout);
          break;
        case 'close':
          await conn.expectClose(step.codes, step.reason, timeout);
          break;
      }
    }
  } finally {
    conn.destroy();
  }
}

export interface SectionOptions {
  /** Cases run at the same time (default 16). */
  concurrency?: number;
  server?: ServerOptions;
  /** Sec-WebSocket-Extensions offered by every case's client (compression sections). */
  extensions?: string;
}

/**
 * Registers one `describe` per section and transport, and one `it` per case, all against one server:
 * over HTTP/1.1 (one TCP connection per case), and over HTTP/2 (RFC 8441: one stream per case, every
 * case of the section multiplexed on one TLS connection) where the server under test speaks it.
 */
export function runSection(title: string, cases: Case[], options: SectionOptions = {}): void {
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
  }
  registerSection(title, cases, options, false);
  if (SERVER_SUPPORTS_HTTP2) registerSection(title, cases, options, true);
}

function registerSection(title: string, cases: Case[], options: SectionOptions, http2: boolean): void {
  const label = http2 ? `${title} [${SERVER_UNDER_TEST}, HTTP/2]` : `${title} [${SERVER_UNDER_TEST}]`;
  void describe(label, { concurrency: options.concurrency ?? 16 }, () => {
    let server: ServerUnderTest;
    let session: ClientHttp2Session | undefined;
    before(async () => {
      server = await startServer({ ...options.server, http2 });
      if (http2) session = await server.http2Session();
    });
    after(async () => {
      session?.close();
      await server.close();
    });
    for (const c of cases) {
      const run = (): Promise<void> => runSteps(server, c, options.extensions, session);
      const deviation =
        SERVER_UNDER_TEST === 'ws-standin'
          ? KNOWN_STANDIN_DEVIATIONS.find(d => c.tags?.includes(d.tag))
          : undefined;
      if (!deviation) {
        void it(`${c.id} ${c.title}`, run);
        continue;
      }
      void it(`${c.id} ${c.title} [known stand-in deviation: must fail]`, async t => {
        let passed = false;
        try {
          await run();
          passed = true;
        } catch (err) {
          t.diagnostic(`fails as expected against the stand-in: ${(err as Error).message}`);
        }
        if (passed)
          throw new Error(
            `case passed against the stand-in; remove "${deviation.tag}" from KNOWN_STANDIN_DEVIATIONS`
          );
      });
    }
  });
}
