// Sections 12 and 13, permessage-deflate (RFC 7692): echo with the `ws` client under many parameter sets, and raw hostile frames.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import WebSocket from 'ws';
import { startServer, type ServerUnderTest } from '../support/server-under-test.js';
import { clientFrame } from '../support/frames.js';
import { Op } from './client.js';
import {
  asciiBytes,
  bytes,
  cont,
  expectClose,
  expectEcho,
  expectPong,
  hex,
  ping,
  runSection,
  send,
  sendChunked,
  text,
  binary,
  type Case,
} from './driver.js';

const KiB = 1024;
const SIZES = [16, 64, 256, 1 * KiB, 4 * KiB, 8 * KiB, 16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB];
/** Each size is sent this many times in a row, so context takeover is exercised across messages. */
const REPEAT = 3;

/** RFC 7692 7.2.1: deflate, sync flush, and remove the trailing 00 00 ff ff. */
function compress(data: Buffer | string): Buffer {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: 2 });
  return out.subarray(0, out.length - 4);
}

// ---- part 1: the `ws` client (like Autobahn 12.x / 13.x, which vary the client's offer) ----

interface Config {
  name: string;
  client: WebSocket.PerMessageDeflateOptions;
  /** The server's perMessageDeflate option. */
  server: Exclude<Parameters<typeof startServer>[0], undefined>['perMessageDeflate'];
  /** What the 101 must answer. */
  answer: string;
}

const CONFIGS: Config[] = [
  {
    name: '12: default offer, context takeover both ways',
    client: {},
    server: { threshold: 0 },
    answer: 'permessage-deflate',
  },
  {
    name: '13.2: client_no_context_takeover',
    client: { clientNoContextTakeover: true },
    server: { threshold: 0 },
    answer: 'permessage-deflate; client_no_context_takeover',
  },
  {
    name: '13.3: client_max_window_bits=9, server_max_window_bits=9',
    client: { clientMaxWindowBits: 9, serverMaxWindowBits: 9 },
    server: { threshold: 0 },
    answer: 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=9',
  },
  {
    name: '13.4: window bits 15 both, no context takeover both',
    client: {
      clientMaxWindowBits: 15,
      serverMaxWindowBits: 15,
      clientNoContextTakeover: true,
      serverNoContextTakeover: true,
    },
    server: { threshold: 0 },
    answer:
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15',
  },
  {
    name: '13.5: client offers 8-bit client window; server limits its own window to 10',
    client: { clientMaxWindowBits: 8, clientNoContextTakeover: true },
    server: { threshold: 0, serverMaxWindowBits: 10 },
    answer:
      'permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8',
  },
  {
    name: '13.6: server asks for client window 11 and no context takeover anywhere',
    client: {},
    server: {
      threshold: 0,
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      clientMaxWindowBits: 11,
    },
    answer:
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=11',
  },
];

function payloadFor(kind: 'text' | 'binary', size: number, i: number): Buffer {
  // Compressible but not trivial: ASCII text, or pseudo-random bytes with repeated runs.
  if (kind === 'text') return asciiBytes(size + i).subarray(i);
  const b = bytes(size, size + i);
  for (let off = 0; off < size; off += 64) b.fill(off & 0xff, off, Math.min(size, off + 32));
  return b;
}

async function echoAll(server: ServerUnderTest, config: Config, kind: 'text' | 'binary'): Promise<number> {
  const ws = new WebSocket(server.wsUrl('/'), { perMessageDeflate: { ...config.client, threshold: 0 } });
  let answer = '';
  ws.on('upgrade', res => (answer = String(res.headers['sec-websocket-extensions'] ?? '')));
  const inbox: { data: Buffer; binary: boolean }[] = [];
  let wake: (() => void) | undefined;
  ws.on('message', (data, isBinary) => {
    inbox.push({ data: Buffer.from(data as Buffer), binary: isBinary });
    wake?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  assert.equal(answer, config.answer);
  let count = 0;
  for (const size of SIZES) {
    const sent: Buffer[] = [];
    for (let i = 0; i < REPEAT; i++) {
      const p = payloadFor(kind, size, i);
      sent.push(p);
      ws.send(kind === 'text' ? p.toString('latin1') : p, { binary: kind === 'binary' });
    }
    // A fragmented compressed message (RSV1 on the first frame only): three sends with fin=false / true.
    const frag = payloadFor(kind, size, 7);
    const third = Math.ceil(size / 3);
    for (let off = 0; off < size; off += third) {
      ws.send(frag.subarray(off, off + third), { binary: kind === 'binary', fin: off + third >= size });
    }
    sent.push(frag);
    for (const want of sent) {
      while (inbox.length === 0) await new Promise<void>(r => (wake = r));
      const got = inbox.shift()!;
      assert.equal(got.binary, kind === 'binary', `${size} B: message type`);
      assert.ok(got.data.equals(want), `${size} B ${kind}: echo differs`);
      count++;
    }
  }
  const closed = new Promise<number>(r => ws.once('close', code => r(code)));
  ws.close(1000);
  assert.equal(await closed, 1000);
  return count;
}

void describe('RFC 7692 conformance, sections 12-13: compressed echo with the ws client', () => {
  for (const config of CONFIGS) {
    void describe(config.name, () => {
      let server: ServerUnderTest;
      before(async () => {
        server = await startServer({ perMessageDeflate: config.server });
      });
      after(() => server.close());
      for (const kind of ['text', 'binary'] as const) {
        void it(`${kind}: ${SIZES[0]} B to ${SIZES[SIZES.length - 1] / KiB} KiB, x${REPEAT} + fragmented, echoed intact`, async () => {
          assert.equal(await echoAll(server, config, kind), SIZES.length * (REPEAT + 1));
        });
      }
    });
  }
});

// ---- part 2: raw frames, including hostile ones ----

const OFFER = 'permessage-deflate; server_no_context_takeover';
const LIMIT = 256 * KiB;
const cases: Case[] = [];
let n = 0;
const add = (title: string, steps: Case['steps']): void => {
  cases.push({ id: `13.9.${++n}`, title, steps });
};

// RFC 7692 7.2.3.1: "Hello" compressed is c1 07 f2 48 cd c9 c9 07 00 (unmasked); here masked.
add('RFC 7692 7.2.3.1 "Hello" -> echo', [
  send(text(hex('f248cdc9c90700'), { rsv: 4 })),
  expectEcho(Op.Text, 'Hello'),
]);
// RFC 7692 7.2.3.2: the same message in two fragments, RSV1 on the first only.
add('RFC 7692 7.2.3.2 "Hello" in two fragments -> echo', [
  send(text(hex('f248cd'), { rsv: 4, fin: false }), cont(hex('c9c90700'))),
  expectEcho(Op.Text, 'Hello'),
]);
// RFC 7692 7.2.3.3: a stored (uncompressed) DEFLATE block.
add('RFC 7692 7.2.3.3 stored block "Hello" -> echo', [
  send(text(hex('0005 00fa ff48 656c 6c6f 00'), { rsv: 4 })),
  expectEcho(Op.Text, 'Hello'),
]);
// RFC 7692 7.2.3.6: an empty message compresses to a single 0x00.
add('RFC 7692 7.2.3.6 empty compressed message -> empty echo', [
  send(binary(hex('00'), { rsv: 4 })),
  expectEcho(Op.Binary, Buffer.alloc(0)),
]);
add('compressed 100 KiB text in 7 fragments, byte-spread writes -> echo', () => {
  const p = asciiBytes(100 * KiB);
  const c = compress(p);
  const size = Math.ceil(c.length / 7);
  const frames: Buffer[] = [];
  for (let off = 0; off < c.length; off += size) {
    const last = off + size >= c.length;
    frames.push(
      off === 0
        ? text(c.subarray(off, off + size), { rsv: 4, fin: last })
        : cont(c.subarray(off, off + size), { fin: last })
    );
  }
  return [sendChunked(97, ...frames), expectEcho(Op.Text, p)];
});
add('ping between fragments of a compressed message -> pong, then echo', () => {
  const c = compress('interleaved control frame');
  return [
    send(text(c.subarray(0, 5), { rsv: 4, fin: false }), ping('p'), cont(c.subarray(5))),
    expectPong(Buffer.from('p')),
    expectEcho(Op.Text, 'interleaved control frame'),
  ];
});
add('compressed then uncompressed messages keep their order', () => [
  send(binary(compress(bytes(5000)), { rsv: 4 }), binary(Buffer.from('plain'))),
  expectEcho(Op.Binary, bytes(5000)),
  expectEcho(Op.Binary, Buffer.from('plain')),
]);
add('RSV1 on a continuation frame -> 1002', () => {
  const c = compress('abc');
  return [
    send(text(c.subarray(0, 2), { rsv: 4, fin: false }), cont(c.subarray(2), { rsv: 4 })),
    expectClose(1002),
  ];
});
add('RSV1 on a ping -> 1002', [send(ping('x', { rsv: 4 })), expectClose(1002)]);
add('RSV2 on a data frame with deflate agreed -> 1002', [send(text('x', { rsv: 2 })), expectClose(1002)]);
add('data that does not inflate -> 1007', [send(binary(hex('ffffffffffff'), { rsv: 4 })), expectClose(1007)]);
add('compressed text inflating to invalid UTF-8 -> 1007', [
  send(text(compress(hex('48656c6cc0af')), { rsv: 4 })),
  expectClose(1007),
]);
add(`compressed 64 KiB frame inflating past maxMessageSize (${LIMIT / KiB} KiB) -> 1009`, () => [
  send(binary(compress(Buffer.alloc(64 * 1024 * 1024)).subarray(0, 64 * KiB), { rsv: 4 })),
  expectClose(1009),
]);
add('fragmented compressed message inflating past maxMessageSize -> 1009', () => {
  const c = compress(Buffer.alloc(LIMIT + 1));
  return [
    send(binary(c.subarray(0, 10), { rsv: 4, fin: false }), cont(c.subarray(10), { fin: true })),
    expectClose(1009),
  ];
});
add('exactly maxMessageSize inflated -> echo', () => [
  send(binary(compress(Buffer.alloc(LIMIT, 1)), { rsv: 4 })),
  expectEcho(Op.Binary, Buffer.alloc(LIMIT, 1)),
]);

runSection('RFC 7692 conformance, section 13.9: raw compressed frames', cases, {
  extensions: OFFER,
  server: { maxMessageSize: LIMIT, perMessageDeflate: { threshold: 0 } },
  concurrency: 4,
});

void describe('RFC 7692: RSV1 without negotiation', () => {
  // Same server, client offers nothing: RSV1 is not allowed (RFC 6455 5.2).
  let server: ServerUnderTest;
  before(async () => {
    server = await startServer({ perMessageDeflate: true });
  });
  after(() => server.close());
  void it('compressed-looking frame without an agreed extension -> 1002', async () => {
    const { RawConnection } = await import('./client.js');
    const conn = await RawConnection.open(server.port, '/');
    try {
      assert.equal(conn.extensions, '');
      await conn.write(clientFrame({ opcode: Op.Text, payload: hex('f248cdc9c90700'), rsv: 4 }));
      await conn.expectClose([1002], undefined, 4000);
    } finally {
      conn.destroy();
    }
  });
});
