// HTTP/2 echo benchmark: the same echo load over HTTP/1.1 WebSockets (one TLS connection each) and over
// HTTP/2 streams (RFC 8441, all on one TLS connection), alternating runs against a fresh server, as ratios.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selfSignedCert } from '../demo/self-signed.js';

const HELP = `npm run bench:http2 -- [options]   (default run: about 70 s)
  --scenarios a,b   echo-32, echo-1k, echo-64k (default echo-1k,echo-64k)
  --conns N         WebSockets per run (default 50: 50 TLS connections, or 50 streams of one)
  --window N        messages in flight per WebSocket (default 16)
  --duration S      measured seconds per run (default 3), after --warmup S (default 1)
  --reps N          runs per (scenario, transport), alternating h1 h2 h1 h2 ... (default 3)
  --server-core N   core the server is pinned to with taskset (default 0)
  --out FILE        where the JSON goes (default bench/results/http2-<time>.json)`;

const { values: opt } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'echo-1k,echo-64k' },
    conns: { type: 'string', default: '50' },
    window: { type: 'string', default: '16' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    reps: { type: 'string', default: '3' },
    'server-core': { type: 'string', default: '0' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(HELP);
  process.exit(0);
}
const CONNS = Number(opt.conns);
const WINDOW = Number(opt.window);
const DURATION_S = Number(opt.duration);
const WARMUP_S = Number(opt.warmup);
const REPS = Number(opt.reps);
const SCENARIOS: Record<string, number> = { 'echo-32': 32, 'echo-1k': 1024, 'echo-64k': 65536 };
const scenarios = opt.scenarios.split(',').map(name => {
  const payload = SCENARIOS[name];
  if (payload === undefined)
    throw new Error(`unknown scenario ${name} (${Object.keys(SCENARIOS).join(', ')})`);
  return { name, payload };
});
// Like a browser (Chromium asks for a 15 MB connection window): Node's client default of 64 KiB for the
// whole connection would make the client, not the transport, the limit of 50 multiplexed sockets.
const CLIENT_CONNECTION_WINDOW = 15 * 1024 * 1024;

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

/** Round trips of one run, in microseconds. */
class Latencies {
  recording = false;
  readonly samples: number[] = [];
  quantile(q: number): number {
    const s = Float64Array.from(this.samples).sort();
    return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
  }
}

/**
 * Keeps `WINDOW` messages in flight on one WebSocket (closed loop): each echo read sends one more.
 * Echoes come back in order, so a FIFO of send times gives each message's round trip.
 */
class EchoLoop {
  received = 0;
  private buf: Buffer = Buffer.alloc(0);
  private readonly sentAt = new Float64Array(WINDOW);
  private head = 0;
  private tail = 0;
  constructor(
    private readonly io: Duplex,
    private readonly frame: Buffer,
    private readonly payload: number,
    private readonly latencies: Latencies,
    private readonly onError: (msg: string) => void
  ) {
    io.on('data', (chunk: Buffer) => this.data(chunk));
    io.on('error', (err: Error) => onError(err.message));
    this.send(WINDOW);
  }

  private send(n: number): void {
    const now = performance.now();
    for (let i = 0; i < n; i++) this.sentAt[this.tail++ % WINDOW] = now;
    this.io.write(n === 1 ? this.frame : Buffer.concat(Array<Buffer>(n).fill(this.frame)));
  }

  private data(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const now = performance.now();
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
      if (b[0] !== 0x82 || len !== this.payload) this.onError(`unexpected frame ${b[0]} of ${len} bytes`);
      this.buf = b.subarray(off + len);
      const sent = this.sentAt[this.head++ % WINDOW];
      if (this.latencies.recording) this.latencies.samples.push((now - sent) * 1000);
      replies++;
    }
    this.received += replies;
    if (replies > 0) this.send(replies);
  }
}

const KEY = randomBytes(16).toString('base64');
const ACCEPT = createHash('sha1').update(`${KEY}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

function tlsSocket(port: number, alpn: string): Duplex {
  const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: [alpn] });
  socket.setNoDelay(true);
  return socket;
}

/** One HTTP/1.1 WebSocket over its own TLS connection (ALPN http/1.1). */
function openH1(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = tlsSocket(port, 'http/1.1');
    socket.once('error', reject);
    socket.write(
      `GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`
    );
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101') || !head.includes(ACCEPT))
        reject(new Error(head.split('\r\n')[0]));
      else if (end + 4 < head.length) reject(new Error('data after the 101 before any message was sent'));
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

/** An HTTP/2 session over a TLS socket with Nagle off (the h1 sockets have it off too), once SETTINGS arrived. */
function h2Session(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, {
      createConnection: () => tlsSocket(port, 'h2'),
      settings: { initialWindowSize: 6 * 1024 * 1024 },
    });
    session.once('remoteSettings', () => {
      session.setLocalWindowSize(CLIENT_CONNECTION_WINDOW);
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

type Transport = 'h1' | 'h2';

interface RunResult {
  scenario: string;
  transport: Transport;
  rep: number;
  msgsPerS: number;
  p50Us: number;
  p99Us: number;
  serverCpuPct: number;
  /** Messages echoed per second of server CPU: the transport's cost, less sensitive to a noisy machine. */
  msgsPerServerCpuS: number;
  /** This process is the client: near 100% means the run was client-bound. */
  clientCpuPct: number;
  errors: string[];
}

async function runOnce(
  scenario: { name: string; payload: number },
  transport: Transport,
  rep: number,
  server: { port: number; pid: number }
): Promise<RunResult> {
  const frame = maskedFrame(randomBytes(scenario.payload));
  const errors: string[] = [];
  const onError = (msg: string): void => void (errors.length < 5 && errors.push(msg));
  const latencies = new Latencies();
  let session: ClientHttp2Session | undefined;
  let ios: Duplex[];
  if (transport === 'h2') {
    const s = (session = await h2Session(server.port));
    ios = await Promise.all(Array.from({ length: CONNS }, () => openH2(s)));
  } else {
    ios = await Promise.all(Array.from({ length: CONNS }, () => openH1(server.port)));
  }
  const loops = ios.map(io => new EchoLoop(io, frame, scenario.payload, latencies, onError));
  const total = (): number => loops.reduce((s, l) => s + l.received, 0);
  await sleep(WARMUP_S * 1000);
  const start = total();
  const cpu0 = cpuSeconds(server.pid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  latencies.recording = true;
  await sleep(DURATION_S * 1000);
  latencies.recording = false;
  const seconds = (performance.now() - t0) / 1000;
  const msgs = total() - start;
  const serverCpuS = cpuSeconds(server.pid) - cpu0;
  const client = process.cpuUsage(client0);
  for (const io of ios) io.destroy();
  session?.destroy();
  if (msgs === 0) errors.push('no message was echoed');
  return {
    scenario: scenario.name,
    transport,
    rep,
    msgsPerS: msgs / seconds,
    p50Us: latencies.quantile(0.5),
    p99Us: latencies.quantile(0.99),
    serverCpuPct: (serverCpuS / seconds) * 100,
    msgsPerServerCpuS: serverCpuS > 0 ? msgs / serverCpuS : NaN,
    clientCpuPct: ((client.user + client.system) / 1e6 / seconds) * 100,
    errors,
  };
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

const here = dirname(fileURLToPath(import.meta.url));
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
// One certificate for every server of the invocation (PEM through the environment, never on disk).
const cert = selfSignedCert();

async function startServer(): Promise<{ port: number; pid: number; child: ChildProcess }> {
  const port = await freePort();
  const argv = [process.execPath, join(here, 'servers', 'nextrush-tls.js'), String(port)];
  const env = { ...process.env, BENCH_TLS_KEY: cert.key.toString(), BENCH_TLS_CERT: cert.cert.toString() };
  const stdio: ['ignore', 'ignore', 'pipe'] = ['ignore', 'ignore', 'pipe'];
  const child = hasTaskset
    ? spawn('taskset', ['-c', opt['server-core'], ...argv], { stdio, env })
    : spawn(argv[0], argv.slice(1), { stdio, env });
  // The server says it listens on stderr; anything else it writes there is passed on.
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('listening')) resolve();
      else if (text.includes('\n')) process.stderr.write(text);
    });
    child.once('exit', code => reject(new Error(`server exited (${code}) before listening: ${text}`)));
    setTimeout(() => reject(new Error('server did not listen in 10 s')), 10_000).unref();
  });
  return { port, pid: child.pid!, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise(r => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(2000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

function median(xs: number[]): number {
  const s = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const fmt = (x: number): string =>
  Number.isNaN(x)
    ? '-'
    : x >= 1e6
      ? `${(x / 1e6).toFixed(2)}M`
      : x >= 1e4
        ? `${(x / 1e3).toFixed(1)}k`
        : `${Math.round(x)}`;
const range = (xs: number[]): string =>
  `${fmt(median(xs))} [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]`;

// A run gets its warm-up and measurement plus 30 s to connect and stop: a hung run fails, it never blocks.
const RUN_LIMIT_MS = (WARMUP_S + DURATION_S + 30) * 1000;
const started = Date.now();
const loadAtStart = loadavg()[0];
const results: RunResult[] = [];
console.error(
  `bench:http2: ${scenarios.map(s => s.name).join(', ')}; ${CONNS} WebSockets x ${WINDOW} in flight; ` +
    `${REPS} reps of ${WARMUP_S}+${DURATION_S} s per transport; server on core ${hasTaskset ? opt['server-core'] : '(no taskset)'}`
);
for (const scenario of scenarios) {
  for (let rep = 1; rep <= REPS; rep++) {
    for (const transport of ['h1', 'h2'] as const) {
      const server = await startServer();
      let timer: NodeJS.Timeout | undefined;
      try {
        const r = await Promise.race([
          runOnce(scenario, transport, rep, server),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`did not finish in ${RUN_LIMIT_MS / 1000} s`)),
              RUN_LIMIT_MS
            );
          }),
        ]);
        results.push(r);
        console.error(
          `${scenario.name} rep ${rep} ${transport}: ${fmt(r.msgsPerS)} msg/s, p50 ${fmt(r.p50Us)} us, ` +
            `p99 ${fmt(r.p99Us)} us, server CPU ${r.serverCpuPct.toFixed(0)}%, client CPU ${r.clientCpuPct.toFixed(0)}%` +
            (r.errors.length ? `, ERRORS: ${r.errors.join('; ')}` : '')
        );
      } catch (err) {
        const message = (err as Error).message;
        console.error(`${scenario.name} rep ${rep} ${transport}: FAILED: ${message}`);
        results.push({
          scenario: scenario.name,
          transport,
          rep,
          msgsPerS: NaN,
          p50Us: NaN,
          p99Us: NaN,
          serverCpuPct: NaN,
          msgsPerServerCpuS: NaN,
          clientCpuPct: NaN,
          errors: [message],
        });
      } finally {
        clearTimeout(timer);
        await stopServer(server.child);
      }
    }
  }
}

const rows: [string, keyof RunResult, boolean][] = [
  ['msg/s', 'msgsPerS', true],
  ['msg per server CPU-s', 'msgsPerServerCpuS', true],
  ['p50 round trip (us)', 'p50Us', true],
  ['p99 round trip (us)', 'p99Us', true],
  ['server CPU %', 'serverCpuPct', false],
  ['client CPU %', 'clientCpuPct', false],
];
console.log(
  `\nWebSocket echo, TLS for both transports: ${CONNS} WebSockets x ${WINDOW} binary messages in flight; ` +
    `h1 = ${CONNS} TLS connections (HTTP/1.1 Upgrade), h2 = ${CONNS} streams of one TLS connection (RFC 8441). ` +
    `Median [min-max] of ${REPS} runs, fresh server each, h1 h2 alternating; ${Math.round((Date.now() - started) / 1000)} s in all; ` +
    `${process.version}; load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end ` +
    `(2 cores: above ~2 other work competed, trust the ratios and the per-CPU-s rows over the raw rates).\n`
);
console.log('| scenario | metric | HTTP/1.1 over TLS | HTTP/2 over TLS | h2/h1 |');
console.log('|---|---|---|---|---|');
for (const { name } of scenarios) {
  for (const [label, key, ratio] of rows) {
    const of = (t: Transport) =>
      results.filter(r => r.scenario === name && r.transport === t).map(r => r[key] as number);
    const h1 = of('h1');
    const h2 = of('h2');
    const r = median(h2) / median(h1);
    console.log(
      `| ${name} | ${label} | ${range(h1)} | ${range(h2)} | ${ratio && !Number.isNaN(r) ? r.toFixed(2) : ''} |`
    );
  }
}
const failed = results.filter(r => r.errors.length > 0);
if (failed.length > 0)
  console.log(`\n${failed.length} run(s) had errors (see above): their figures are not trusted.`);
const out =
  opt.out ??
  join(here, '..', '..', 'bench', 'results', `http2-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      node: process.version,
      loadavg: [loadAtStart, loadavg()[0]],
      conns: CONNS,
      window: WINDOW,
      duration: DURATION_S,
      warmup: WARMUP_S,
      reps: REPS,
      results,
    },
    null,
    1
  )
);
console.log(`\nJSON: ${out}`);
process.exit(failed.length > 0 ? 1 : 0);
