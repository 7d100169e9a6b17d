// Micro-benchmarks of the protocol hot paths (decode, encode, unmask, UTF-8) to guide optimisation work.
import { randomBytes } from 'node:crypto';
import { FrameDecoder, type FrameSink } from '../src/protocol/decoder.js';
import { encodeFrame, encodeTextFrame } from '../src/protocol/encoder.js';
import { applyMask, applyMaskWords, maskBackend } from '../src/protocol/mask.js';
import { Opcode } from '../src/protocol/opcodes.js';
import { Utf8StreamValidator, isValidUtf8 } from '../src/protocol/utf8.js';
import { clientFrame } from '../test/support/frames.js';
import { checkHandshake, switchingProtocolsResponse } from '../src/protocol/handshake.js';
import { parseUpgradeHead } from './prototypes/upgrade-front.js';
import type { IncomingMessage } from 'node:http';
import { contextClassFor, type ResponseSource } from '../src/core/context.js';
import { Router } from '../src/core/router.js';
import { NONE } from '../src/core/routes.js';
import type { Application } from '../src/core/types.js';
import { negotiateDeflate } from '../src/protocol/extensions.js';
import { DeflateContext } from '../src/ws/deflate/context.js';

let sinkCount = 0;
const sink: FrameSink = {
  onText: t => void (sinkCount += t.length),
  onBinary: b => void (sinkCount += b.length),
  onPing: () => {},
  onPong: () => {},
  onCloseFrame: () => {},
  onError: e => {
    throw e;
  },
};

interface Result {
  name: string;
  opsPerSec: number;
  mbPerSec: number;
}

/** Runs `fn` (which processes `bytes` bytes and `ops` operations per call) for about `ms` milliseconds. */
function measure(name: string, ops: number, bytes: number, fn: () => void, ms = 400): Result {
  for (let i = 0; i < 200; i++) fn(); // warm-up so the JIT has compiled the path
  let calls = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 50; i++) fn();
    calls += 50;
    now = process.hrtime.bigint();
  }
  const seconds = Number(now - start) / 1e9;
  return { name, opsPerSec: (calls * ops) / seconds, mbPerSec: (calls * bytes) / seconds / 1e6 };
}

/** A fresh copy each call: the decoder unmasks in place, so input must be re-masked bytes every time. */
function decodeBench(name: string, frames: Buffer[], perChunk: number): Result {
  const chunk = Buffer.concat(frames.slice(0, perChunk));
  const scratch = Buffer.allocUnsafe(chunk.length);
  const decoder = new FrameDecoder(sink, { maxMessageSize: 64 * 1024 * 1024 });
  return measure(name, perChunk, chunk.length, () => {
    chunk.copy(scratch);
    decoder.push(scratch);
  });
}

/** Decodes `frames` as a socket would deliver them: in reads of `readSize` bytes (fresh copies each time). */
function decodeInReads(name: string, frames: Buffer[], readSize: number): Result {
  const stream = Buffer.concat(frames);
  const reads: Buffer[] = [];
  for (let off = 0; off < stream.length; off += readSize) reads.push(stream.subarray(off, off + readSize));
  const scratch = reads.map(r => Buffer.allocUnsafe(r.length));
  const decoder = new FrameDecoder(sink, { maxMessageSize: 64 * 1024 * 1024 });
  return measure(name, frames.length, stream.length, () => {
    for (let i = 0; i < reads.length; i++) {
      reads[i].copy(scratch[i]);
      decoder.push(scratch[i]);
    }
  });
}
/** About `n` bytes of valid UTF-8 with 1-, 2- and 4-byte sequences (whole repetitions, so never cut). */
function textOf(n: number): Buffer {
  const unit = 'héllo wörld, 𝄞 ';
  return Buffer.from(unit.repeat(Math.floor(n / Buffer.byteLength(unit))));
}

const results: Result[] = [];
const p32 = randomBytes(32);
const p1k = randomBytes(1024);
const p64k = randomBytes(65536);
const text1k = Buffer.from('héllo wörld, '.repeat(80).slice(0, 1000));

results.push(
  decodeBench(
    'decode 16 x 32 B binary (one chunk)',
    new Array<Buffer>(16).fill(clientFrame(Opcode.Binary, p32)),
    16
  )
);
results.push(
  decodeBench(
    'decode 16 x 1 KiB binary (one chunk)',
    new Array<Buffer>(16).fill(clientFrame(Opcode.Binary, p1k)),
    16
  )
);
results.push(
  decodeBench(
    'decode 16 x 1 KiB text (one chunk)',
    new Array<Buffer>(16).fill(clientFrame(Opcode.Text, text1k)),
    16
  )
);
results.push(decodeBench('decode 1 x 64 KiB binary', [clientFrame(Opcode.Binary, p64k)], 1));
const text64k = textOf(65536);
// 64 KiB frames as they arrive from a socket: 64 KiB reads, so every frame straddles two reads.
results.push(
  decodeInReads(
    'decode 16 x 64 KiB binary in 64 KiB reads',
    new Array<Buffer>(16).fill(clientFrame(Opcode.Binary, p64k)),
    65536
  )
);
const text1m = textOf(1 << 20);
results.push(decodeBench('decode 1 x 64 KiB text (one chunk)', [clientFrame(Opcode.Text, text64k)], 1));
results.push(
  decodeInReads('decode 1 x 1 MiB text in 64 KiB reads', [clientFrame(Opcode.Text, text1m)], 65536)
);
results.push(
  decodeInReads(
    'decode 1 x 1 MiB binary in 64 KiB reads',
    [clientFrame(Opcode.Binary, randomBytes(1 << 20))],
    65536
  )
);
results.push(
  decodeInReads(
    'decode 16 x 1 KiB binary in 100 B reads',
    new Array<Buffer>(16).fill(clientFrame(Opcode.Binary, p1k)),
    100
  )
);
{
  // A fragmented text message: 64 fragments of 64 bytes.
  const piece = Buffer.from('a'.repeat(64));
  const frames = [clientFrame(Opcode.Text, piece, false)];
  for (let i = 1; i < 63; i++) frames.push(clientFrame(Opcode.Continuation, piece, false));
  frames.push(clientFrame(Opcode.Continuation, piece, true));
  results.push(decodeBench('decode 64 fragments x 64 B text', frames, frames.length));
}
results.push(measure('encode 32 B binary', 1, 32, () => encodeFrame(Opcode.Binary, p32)));
results.push(measure('encode 1 KiB binary', 1, 1024, () => encodeFrame(Opcode.Binary, p1k)));
const str1k = text1k.toString();
results.push(measure('encode 1 KiB text (string)', 1, 1024, () => encodeTextFrame(str1k)));
results.push(measure('encode 64 KiB binary', 1, 65536, () => encodeFrame(Opcode.Binary, p64k)));
const key = randomBytes(4);
const m32 = Buffer.from(p32);
const m1k = Buffer.from(p1k);
const m64k = Buffer.from(p64k);
results.push(measure('unmask 32 B', 1, 32, () => applyMask(m32, 0, 32, key, 0)));
results.push(measure('unmask 1 KiB', 1, 1024, () => applyMask(m1k, 0, 1024, key, 0)));
results.push(measure('unmask 4 KiB', 1, 4096, () => applyMask(m64k, 0, 4096, key, 0)));
results.push(measure(`unmask 64 KiB (${maskBackend()})`, 1, 65536, () => applyMask(m64k, 0, 65536, key, 0)));
const [k0, k1, k2, k3] = key;
results.push(
  measure('unmask 64 KiB (JavaScript word loop)', 1, 65536, () =>
    applyMaskWords(m64k, 0, 65536, k0, k1, k2, k3)
  )
);
results.push(measure('UTF-8 validate 1 KiB (whole)', 1, text1k.length, () => isValidUtf8(text1k)));
const validator = new Utf8StreamValidator();
results.push(
  measure('UTF-8 validate 1 KiB (streaming, 16 pieces)', 1, text1k.length, () => {
    validator.reset();
    for (let i = 0; i < 16; i++) validator.feed(text1k, i * 62, Math.min(text1k.length, (i + 1) * 62));
  })
);

{
  // The opening handshake's own work, to compare with the CPU a whole handshake costs the server
  // (about 230 us per handshake at 4.4k handshakes per CPU-second in the shared harness).
  const head = Buffer.from(
    'GET /chat HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
  );
  const headers = {
    host: '127.0.0.1:8080',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
  };
  results.push(
    measure('handshake check + 101 response (SHA-1)', 1, 0, () => {
      const check = checkHandshake('GET', '1.1', headers);
      if (check.ok) sinkCount += switchingProtocolsResponse(check.key).length;
    })
  );
  results.push(
    measure('upgrade head parse (bench/prototypes fast path)', 1, head.length, () => {
      sinkCount += parseUpgradeHead(head)?.end ?? 0;
    })
  );
}

{
  // What the app chain adds to a handshake before the plugin's admission (issue 12's regression): the
  // context of an upgrade (its response made lazily, never here) and the match of its app.ws() route.
  const Context = contextClassFor();
  const routes = new Router<true>().add('/chat/:room', true);
  const resolve = (_method: string, path: string) => routes.find(path) ?? NONE;
  const req = {
    url: '/chat/lobby?token=t',
    method: 'GET',
    headers: { host: 'x', upgrade: 'websocket' },
  } as unknown as IncomingMessage;
  const app = {} as Application;
  const source: ResponseSource = {
    get res(): never {
      throw new Error('an upgrade that nothing answers over HTTP makes no response');
    },
  };
  results.push(
    measure('upgrade context + app.ws route match (no middleware)', 1, 0, () => {
      const ctx = new Context(app, req, source, false, resolve);
      sinkCount += ctx.currentRoute() === NONE ? 0 : 1;
    })
  );
  // permessage-deflate terms per handshake: negotiation, then the agreement shared by equal terms.
  const deflate = new DeflateContext({
    threshold: 1024,
    level: 1,
    memLevel: 8,
    concurrencyLimit: 10,
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  });
  const offer = 'permessage-deflate; client_max_window_bits';
  results.push(
    measure('permessage-deflate negotiation + shared agreement', 1, 0, () => {
      const agreed = negotiateDeflate(offer, deflate.settings);
      if (agreed !== undefined) sinkCount += deflate.shared(agreed).header.length;
    })
  );
}

const rows = results.map(r => ({
  benchmark: r.name,
  'ops/s': Math.round(r.opsPerSec).toLocaleString('en-US'),
  'MB/s': r.mbPerSec.toFixed(0),
}));
console.table(rows);
if (sinkCount < 0) console.log(sinkCount); // keeps the sink's work observable to the optimiser
