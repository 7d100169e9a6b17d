// HTTP/2 echo benchmark: the same echo load over HTTP/1.1 WebSockets (one TLS connection each) and over
// HTTP/2 streams (RFC 8441, all on one TLS connection), alternating runs against a fresh server, as ratios.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    conns: { type: 'string', default: '50' },
    window: { type: 'string', default: '16' },
    payload: { type: 'string', default: '1024' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    reps: { type: 'string', default: '3' },
    'server-core': { type: 'string', default: '0' },
  },
});
const CONNS = Number(opt.conns);
const WINDOW = Number(opt.window);
const PAYLOAD = Number(opt.payload);

/** A masked binary frame of the payload, built once: every message sent is this frame. */
function maskedFrame(payload: Buffer): Buffer {
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.alloc(2 + extra + 4 + len);
  out[0] = 0x82;
  if (extra === 0) out[1] = 0x80 | len;
  else if (extra === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, 2 + extra);
  for (let i = 0; i < len; i++) out[6 + extra + i] = payload[i] ^ mask[i & 3];
  return out;
}

/** Counts echoed messages on one WebSocket and keeps `WINDOW` in flight; checks each echo's length. */
class EchoLoop {
  received = 0;
  private buf: Buffer = Buffer.alloc(0);
  constructor(
    private readonly io: Duplex,
    private readonly frame: Buffer,
    private readonly onError: (msg: string) => void
  ) {
    io.on('data', (chunk: Buffer) => this.data(chunk));
    for (let i = 0; i < WINDOW; i++) io.write(frame);
  }

  private data(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let replies = 0;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) break;
      if (b[0] !== 0x82 || len !== PAYLOAD) this.onError(`unexpected frame ${b[0]} of ${len} bytes`);
      this.buf = b.subarray(off + len);
      replies++;
    }
    this.received += replies;
    if (replies > 0)
      this.io.write(replies === 1 ? this.frame : Buffer.concat(Array(replies).fill(this.frame)));
  }
}

const KEY = randomBytes(16).toString('base64');
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** One HTTP/1.1 WebSocket over its own TLS connection (ALPN http/1.1). */
function openH1(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.write(
      `GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    );
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(ACCEPT))
        reject(new Error(head.split('\r\n')[0]));
      else resolve(socket);
    };
    socket.on('data', onData);
  });
}

/** One WebSocket on a new stream of `session` (RFC 8441 extended CONNECT). */
function openH2(session: ClientHttp2Session): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':scheme': 'https',
        ':path': '/echo',
        'sec-websocket-version': '13',
      },
      { endStream: false }
    );
    stream.once('response', h =>
      h[':status'] === 200 ? resolve(stream) : reject(new Error(`:status ${h[':status']}`))
    );
    stream.once('error', reject);
  });
}

function h2Session(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.once('remoteSettings', () => {
      session.socket.setNoDelay(true);
      resolve(session);
    });
    session.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

interface RunResult {
  transport: 'h1' | 'h2';
  msgsPerS: number;
  serverCpuPct: number;
  /** This process is the client: near 100% means the run was client-bound. */
  clientCpuPct: number;
  errors: number;
}

async function runOnce(transport: 'h1' | 'h2', server: { port: number; pid: number }): Promise<RunResult> {
  const frame = maskedFrame(randomBytes(PAYLOAD));
  let errors = 0;
  const onError = (): void => void errors++;
  let session: ClientHttp2Session | undefined;
  const ios: Duplex[] = [];
  if (transport === 'h2') {
    session = await h2Session(server.port);
    for (let i = 0; i < CONNS; i++) ios.push(await openH2(session));
  } else {
    for (let i = 0; i < CONNS; i++) ios.push(await openH1(server.port));
  }
  const loops = ios.map(io => new EchoLoop(io, frame, onError));
  const total = (): number => loops.reduce((s, l) => s + l.received, 0);
  await sleep(Number(opt.warmup) * 1000);
  const start = total();
  const cpu0 = cpuSeconds(server.pid);
  const client0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(Number(opt.duration) * 1000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const msgs = total() - start;
  const serverCpuPct = ((cpuSeconds(server.pid) - cpu0) / seconds) * 100;
  const client = process.cpuUsage(client0);
  const clientCpuPct = ((client.user + client.system) / 1e6 / seconds) * 100;
  for (const io of ios) io.destroy();
  session?.destroy();
  return { transport, msgsPerS: msgs / seconds, serverCpuPct, clientCpuPct, errors };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startServer(): Promise<{ port: number; pid: number; child: ChildProcess }> {
  const port = await freePort();
  const file = join(dirname(fileURLToPath(import.meta.url)), 'servers', 'nextrush-tls.js');
  const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  const argv = [process.execPath, file, String(port)];
  const child = hasTaskset
    ? spawn('taskset', ['-c', opt['server-core'], ...argv], { stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    try {
      (await h2Session(port)).destroy();
      return { port, pid: child.pid!, child };
    } catch {
      await sleep(50);
    }
  }
  throw new Error('server did not start');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const results: RunResult[] = [];
for (let rep = 1; rep <= Number(opt.reps); rep++) {
  for (const transport of ['h1', 'h2'] as const) {
    const server = await startServer();
    try {
      // A safety net, not a speed check: a run that hangs fails instead of blocking the benchmark.
      const r = await Promise.race([
        runOnce(transport, server),
        sleep(120_000).then(() => Promise.reject(new Error(`${transport} run did not finish in 120 s`))),
      ]);
      results.push(r);
      console.error(
        `rep ${rep} ${transport}: ${Math.round(r.msgsPerS)} msg/s, server CPU ${r.serverCpuPct.toFixed(0)}%, ` +
          `client CPU ${r.clientCpuPct.toFixed(0)}%`
      );
    } finally {
      server.child.kill('SIGTERM');
      await new Promise(r => server.child.once('exit', r));
    }
  }
}

const of = (t: 'h1' | 'h2') => results.filter(r => r.transport === t);
const h1 = median(of('h1').map(r => r.msgsPerS));
const h2 = median(of('h2').map(r => r.msgsPerS));
const cpu1 = median(of('h1').map(r => r.serverCpuPct));
const cpu2 = median(of('h2').map(r => r.serverCpuPct));
const client1 = median(of('h1').map(r => r.clientCpuPct));
const client2 = median(of('h2').map(r => r.clientCpuPct));
const errors = results.reduce((s, r) => s + r.errors, 0);
console.log(
  `HTTP/2 echo: ${CONNS} WebSockets, window ${WINDOW}, ${PAYLOAD}-byte binary messages, TLS for both, ${opt.reps} reps (median)`
);
console.log('| transport | msg/s | server CPU % | client CPU % |');
console.log('|---|---|---|---|');
console.log(
  `| HTTP/1.1 over TLS (${CONNS} TLS connections) | ${Math.round(h1)} | ${cpu1.toFixed(0)} | ${client1.toFixed(0)} |`
);
console.log(
  `| HTTP/2 over TLS (${CONNS} streams, 1 TLS connection) | ${Math.round(h2)} | ${cpu2.toFixed(0)} | ${client2.toFixed(0)} |`
);
console.log(
  `ratio h2/h1 throughput: ${(h2 / h1).toFixed(2)}; server CPU per message h2/h1: ${(cpu2 / h2 / (cpu1 / h1)).toFixed(2)}`
);
if (errors > 0) console.log(`ERRORS: ${errors} bad echoes`);
process.exit(errors > 0 ? 1 : 0);
