// Load client: one process, one thread, drives a WebSocket server and verifies every reply; prints one JSON result.
// Kept lean on purpose (pre-built masked frames, one write per read event per connection, a shared read
// buffer, a parser that allocates nothing per message) so that it can outrun the server it measures.
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { cpuSample, procSample } from './proc-stats.mjs';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const { values: opt } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'echo' }, // echo | broadcast | connrate | idle
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    pid: { type: 'string', default: '0' }, // server PID, for its CPU time and RSS
    conns: { type: 'string', default: '50' },
    window: { type: 'string', default: '16' },
    payload: { type: 'string', default: '32' },
    text: { type: 'boolean', default: false },
    raw: { type: 'boolean', default: false }, // no handshake, unmasked frames: calibration against a TCP echo
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    'verify-every': { type: 'string', default: '1' },
    subs: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '500' },
    'pub-window': { type: 'string', default: '16' },
    count: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '64' },
    settle: { type: 'string', default: '2' },
  },
});

const port = Number(opt.port);
const host = opt.host;
const serverPid = Number(opt.pid);
const raw = opt.raw;
const verifyEvery = Math.max(1, Number(opt['verify-every']));

const errors = [];
function fail(msg) {
  if (errors.length < 20) errors.push(msg);
}

// One read buffer shared by every socket: data is consumed synchronously inside the callback, so no
// per-read allocation is needed (net.connect `onread`).
const readBuf = Buffer.allocUnsafe(256 * 1024);

/** Encodes one client frame (masked unless raw) into `out` at `off`; returns the new offset. */
function encodeFrame(out, off, opcode, payload, mask) {
  const len = payload.length;
  out[off++] = 0x80 | opcode;
  const maskBit = raw ? 0 : 0x80;
  if (len < 126) out[off++] = maskBit | len;
  else if (len < 65536) {
    out[off++] = maskBit | 126;
    out.writeUInt16BE(len, off);
    off += 2;
  } else {
    out[off++] = maskBit | 127;
    out.writeUInt32BE(0, off);
    out.writeUInt32BE(len, off + 4);
    off += 8;
  }
  if (raw) {
    payload.copy(out, off);
    return off + len;
  }
  mask.copy(out, off);
  off += 4;
  for (let i = 0; i < len; i++) out[off + i] = payload[i] ^ mask[i & 3];
  return off + len;
}

function frameSize(len) {
  return 2 + (len < 126 ? 0 : len < 65536 ? 2 : 8) + (raw ? 0 : 4) + len;
}

function nonZeroMask() {
  for (;;) {
    const m = randomBytes(4);
    if (m.readUInt32BE(0) !== 0) return m;
  }
}

/** Log-linear latency histogram in microseconds: 64 sub-buckets per power of two (< 1.6% error). */
class Histogram {
  constructor() {
    this.counts = new Float64Array(64 * 40);
    this.n = 0;
    this.sum = 0;
    this.max = 0;
  }
  record(us) {
    const v = us < 1 ? 1 : us;
    const e = Math.floor(Math.log2(v));
    const sub = e < 6 ? Math.floor(v) & 63 : Math.floor(v / 2 ** (e - 6)) - 64;
    this.counts[(e < 6 ? 0 : e - 5) * 64 + sub]++;
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }
  bucketValue(i) {
    const row = Math.floor(i / 64);
    const sub = i % 64;
    if (row === 0) return sub;
    return (64 + sub + 0.5) * 2 ** (row - 1);
  }
  quantile(q) {
    if (this.n === 0) return 0;
    const target = q * this.n;
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i];
      if (acc >= target) return Math.round(this.bucketValue(i));
    }
    return Math.round(this.max);
  }
  summary() {
    return {
      n: this.n,
      p50_us: this.quantile(0.5),
      p99_us: this.quantile(0.99),
      mean_us: this.n ? Math.round(this.sum / this.n) : 0,
      max_us: Math.round(this.max),
    };
  }
}

/**
 * Incremental parser for server frames. Reports complete messages through `onMessage(opcode, length, conn)`
 * and payload pieces through `onPayload(chunk, start, end, msgOffset, conn)` so the caller can compare bytes
 * in place. Server frames must be unmasked, RSV bits clear, opcodes known (RFC 6455 section 5.2).
 */
class FrameParser {
  constructor(conn) {
    this.conn = conn;
    this.hdr = Buffer.alloc(14);
    this.hdrLen = 0;
    this.remaining = 0; // payload bytes left in the current frame
    this.inPayload = false;
    this.frameOpcode = 0;
    this.fin = false;
    this.msgOpcode = 0; // opcode of the message being assembled (0 = none)
    this.msgLen = 0;
    this.ctrl = null; // control frame payload being collected
    this.dead = false;
  }

  /** Parses chunk[start, end). Returns false on a protocol error (already reported). */
  push(chunk, start, end) {
    let i = start;
    while (i < end) {
      if (this.inPayload) {
        const take = Math.min(this.remaining, end - i);
        if (this.ctrl !== null) chunk.copy(this.ctrl, this.ctrl.length - this.remaining, i, i + take);
        else if (take > 0) this.conn.onPayload(chunk, i, i + take, this.msgLen);
        if (this.ctrl === null) this.msgLen += take;
        i += take;
        this.remaining -= take;
        if (this.remaining === 0 && !this.endFrame()) return false;
        continue;
      }
      // Header: fast path when the whole header is in this chunk, else collect it byte by byte.
      let h = chunk;
      let p = i;
      let avail = end - i;
      if (this.hdrLen > 0 || avail < 2 || avail < headerLength(chunk[i + 1])) {
        const need = this.hdrLen < 2 ? 2 : headerLength(this.hdr[1]);
        while (this.hdrLen < need && i < end) this.hdr[this.hdrLen++] = chunk[i++];
        if (this.hdrLen < 2) return true;
        const full = headerLength(this.hdr[1]);
        while (this.hdrLen < full && i < end) this.hdr[this.hdrLen++] = chunk[i++];
        if (this.hdrLen < full) return true;
        h = this.hdr;
        p = 0;
        avail = full;
        this.hdrLen = 0;
      } else {
        i += headerLength(chunk[i + 1]);
      }
      const b0 = h[p];
      const b1 = h[p + 1];
      if (b0 & 0x70) return this.error('RSV bit set');
      if (b1 & 0x80) return this.error('masked server frame');
      let len = b1 & 0x7f;
      if (len === 126) len = h.readUInt16BE(p + 2);
      else if (len === 127) {
        if (h.readUInt32BE(p + 2) !== 0) return this.error('64-bit length too large');
        len = h.readUInt32BE(p + 6);
      }
      const opcode = b0 & 0x0f;
      this.fin = (b0 & 0x80) !== 0;
      this.frameOpcode = opcode;
      if (opcode >= 8) {
        if (opcode > 10) return this.error(`reserved opcode ${opcode}`);
        if (!this.fin || len > 125) return this.error('bad control frame');
        this.ctrl = Buffer.alloc(len);
      } else {
        this.ctrl = null;
        if (opcode === 0) {
          if (this.msgOpcode === 0) return this.error('unexpected continuation frame');
        } else if (opcode === 1 || opcode === 2) {
          if (this.msgOpcode !== 0) return this.error('new message inside a fragmented one');
          this.msgOpcode = opcode;
          this.msgLen = 0;
        } else return this.error(`reserved opcode ${opcode}`);
      }
      this.remaining = len;
      this.inPayload = true;
      if (len === 0 && !this.endFrame()) return false;
    }
    return true;
  }

  endFrame() {
    this.inPayload = false;
    const op = this.frameOpcode;
    if (op >= 8) {
      const payload = this.ctrl;
      this.ctrl = null;
      if (op === 8)
        return this.error(
          `server closed the connection (${payload.length >= 2 ? payload.readUInt16BE(0) : 1005})`
        );
      if (op === 9) this.conn.pong(payload);
      return true;
    }
    if (this.fin) {
      const opcode = this.msgOpcode;
      this.msgOpcode = 0;
      return this.conn.onMessage(opcode, this.msgLen);
    }
    return true;
  }

  error(msg) {
    this.dead = true;
    fail(msg);
    return false;
  }
}

function headerLength(b1) {
  const l = b1 & 0x7f;
  return 2 + (l === 126 ? 2 : l === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/**
 * Opens one connection and performs the opening handshake (unless raw). Calls `onOpen(sock, rest)` with any
 * bytes received after the response headers, then routes every later read to `onData(chunk, n)`.
 */
function connect(path, handlers) {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  let open = raw;
  let head = '';
  const sock = net.connect({
    host,
    port,
    onread: {
      buffer: readBuf,
      callback(n, buf) {
        if (open) {
          handlers.onData(buf, n);
          return;
        }
        head += buf.toString('latin1', 0, n);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 8192) handlers.onError('handshake response too long');
          return;
        }
        const problem = checkResponse(head.slice(0, end), accept);
        if (problem) {
          handlers.onError(problem);
          return;
        }
        open = true;
        const restLen = head.length - end - 4;
        head = '';
        handlers.onOpen(sock);
        if (restLen > 0) handlers.onData(buf, n, n - restLen);
      },
    },
  });
  sock.setNoDelay(true);
  sock.on('connect', () => {
    if (raw) handlers.onOpen(sock);
    else
      sock.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
      );
  });
  sock.on('error', e => handlers.onError(`socket error: ${e.message}`));
  sock.on('close', () => handlers.onClose());
  return sock;
}

/** Validates the 101 response (RFC 6455 section 4.1, client requirements 1-6); returns a problem or ''. */
function checkResponse(head, accept) {
  const lines = head.split('\r\n');
  if (!/^HTTP\/1\.1 101 /.test(lines[0] + ' ')) return `handshake status: ${lines[0]}`;
  const h = new Map();
  for (let i = 1; i < lines.length; i++) {
    const c = lines[i].indexOf(':');
    if (c > 0) h.set(lines[i].slice(0, c).trim().toLowerCase(), lines[i].slice(c + 1).trim());
  }
  if ((h.get('upgrade') ?? '').toLowerCase() !== 'websocket') return 'handshake: Upgrade header';
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(h.get('connection') ?? '')) return 'handshake: Connection header';
  if (h.get('sec-websocket-accept') !== accept) return 'handshake: bad Sec-WebSocket-Accept';
  if (h.has('sec-websocket-extensions')) return 'handshake: extension selected but none offered';
  if (h.has('sec-websocket-protocol')) return 'handshake: subprotocol selected but none offered';
  return '';
}

/** Snapshot of the CPU counters used to judge whether client or server is the bottleneck. */
function snapshot() {
  return {
    t: performance.now(),
    cpu: process.cpuUsage(),
    procs: cpuSample(),
    server: serverPid ? procSample(serverPid) : null,
  };
}

/** CPU use between two snapshots, in % of one core. */
function cpuReport(a, b) {
  const secs = (b.t - a.t) / 1000;
  const client = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e4 / secs;
  const server = a.server && b.server ? (b.server.ticks - a.server.ticks) / secs : null;
  const cores = b.procs.cores.map((c, i) => {
    const o = a.procs.cores[i];
    const total = c.total - o.total;
    return total > 0 ? (100 * (c.busy - o.busy)) / total : 0;
  });
  const allBusy = (b.procs.busy - a.procs.busy) / secs; // ticks/s == % of one core at 100 Hz
  const other = allBusy - client - (server ?? 0);
  return {
    client_cpu_pct: round1(client),
    server_cpu_pct: server === null ? null : round1(server),
    core_busy_pct: cores.map(round1),
    other_cpu_pct: round1(Math.max(0, other)),
    seconds: round3(secs),
  };
}

const round1 = x => Math.round(x * 10) / 10;
const round3 = x => Math.round(x * 1000) / 1000;

/** Pattern of valid, varied bytes from which expected payloads are cut (ASCII for text frames). */
function makePattern(len) {
  const p = randomBytes(len);
  if (opt.text) for (let i = 0; i < len; i++) p[i] = 0x20 + (p[i] % 95);
  return p;
}

// ---------------------------------------------------------------------------------------------------
// echo: conns connections, window messages in flight on each, closed loop.

async function echo() {
  const conns = Number(opt.conns);
  const W = Number(opt.window);
  const size = Number(opt.payload);
  const opcode = opt.text ? 1 : 2;
  const pattern = makePattern(size + 4096);
  const fsize = frameSize(size);
  // Frame sets: 2W frames back to back, so any run of k <= W consecutive slots is one contiguous slice.
  // Large payloads share sets between connections to bound memory; masks are still random per frame.
  const sets = Math.max(1, Math.min(conns, Math.floor((8 << 20) / (2 * W * fsize))));
  const frameSets = [];
  for (let s = 0; s < sets; s++) {
    const buf = Buffer.allocUnsafe(2 * W * fsize);
    const expected = [];
    for (let k = 0; k < W; k++) {
      const off = ((s * W + k) * 61) % 4096;
      expected.push(pattern.subarray(off, off + size));
    }
    let o = 0;
    for (let k = 0; k < 2 * W; k++) o = encodeFrame(buf, o, opcode, expected[k % W], nonZeroMask());
    frameSets.push({ buf, expected });
  }

  const hist = new Histogram();
  let phase = 0; // 0 connecting, 1 warm-up, 2 measured, 3 stopped
  let measured = 0;
  let verified = 0;
  let total = 0;
  let now = 0;
  let opened = 0;
  let closed = 0;
  let resolveOpen;
  const allOpen = new Promise(r => (resolveOpen = r));
  const socks = [];

  for (let c = 0; c < conns; c++) {
    const set = frameSets[c % sets];
    const sentAt = new Float64Array(W);
    let sendSlot = 0; // next slot to send
    let recvSlot = 0; // slot of the next expected reply
    let received = 0;
    let sock = null;
    let checking = true; // whether the current message's bytes are compared
    let bad = false;
    const conn = {
      onPayload(chunk, s, e, msgOff) {
        if (!checking) return;
        const exp = set.expected[recvSlot];
        if (msgOff + (e - s) > exp.length) return; // length error reported at message end
        if (exp.compare(chunk, s, e, msgOff, msgOff + (e - s)) !== 0) {
          bad = true;
        }
      },
      onMessage(op, len) {
        if (op !== opcode) return parser.error(`echo opcode ${op}, expected ${opcode}`);
        if (len !== size) return parser.error(`echo length ${len}, expected ${size}`);
        if (bad) return parser.error('echo payload differs from what was sent');
        if (checking) verified++;
        if (phase === 2) {
          measured++;
          hist.record((now - sentAt[recvSlot]) * 1000);
        }
        total++;
        received++;
        recvSlot = recvSlot + 1 === W ? 0 : recvSlot + 1;
        checking = total % verifyEvery === 0;
        return true;
      },
      pong(payload) {
        sock.write(pongFrame(payload));
      },
    };
    const parser = new FrameParser(conn);
    const send = k => {
      sock.write(set.buf.subarray(sendSlot * fsize, (sendSlot + k) * fsize));
      for (let i = 0; i < k; i++) sentAt[(sendSlot + i) % W] = now;
      sendSlot = (sendSlot + k) % W;
    };
    socks.push(
      (sock = connect('/echo', {
        onOpen() {
          if (++opened === conns) resolveOpen();
        },
        onData(buf, n, from = 0) {
          if (parser.dead) return;
          now = performance.now();
          received = 0;
          if (!parser.push(buf, from, n)) {
            sock.destroy();
            return;
          }
          if (received > 0 && phase < 3) send(received);
        },
        onError(msg) {
          fail(msg);
          sock.destroy();
        },
        onClose() {
          closed++;
          if (phase < 3) fail('connection closed during the run');
          if (opened < conns && closed + opened >= conns) resolveOpen();
        },
      }))
    );
    conn.start = () => {
      now = performance.now();
      send(W);
    };
    sock.conn = conn;
  }
  await allOpen;
  if (errors.length) return finish({ ok: false });
  phase = 1;
  for (const s of socks) s.conn.start();
  await sleep(Number(opt.warmup) * 1000);
  phase = 2;
  const a = snapshot();
  await sleep(Number(opt.duration) * 1000);
  const b = snapshot();
  const m = measured;
  phase = 3;
  for (const s of socks) s.destroy();
  const cpu = cpuReport(a, b);
  return finish({
    ok: errors.length === 0 && m > 0,
    scenario: 'echo',
    conns,
    window: W,
    payload: size,
    text: opt.text,
    messages: m,
    msgs_per_s: Math.round(m / cpu.seconds),
    mbytes_per_s: round1((m * size) / cpu.seconds / 1e6),
    verified,
    total_replies: total,
    latency: hist.summary(),
    ...cpu,
  });
}

function pongFrame(payload) {
  const out = Buffer.allocUnsafe(frameSize(payload.length));
  encodeFrame(out, 0, 10, payload, nonZeroMask());
  return out;
}

// ---------------------------------------------------------------------------------------------------
// broadcast: subs subscribers + 1 publisher on /broadcast; each message carries a sequence number that
// every subscriber checks arrives in order, exactly once, with intact payload.

async function broadcast() {
  const subs = Number(opt.subs);
  const size = Math.max(8, Number(opt.payload));
  const measuredMsgs = Number(opt.messages);
  const warm = Math.max(1, Math.ceil(measuredMsgs / 10));
  const totalMsgs = warm + measuredMsgs;
  const pubWindow = Number(opt['pub-window']);
  const filler = makePattern(size);
  const payloadOf = seq => {
    const p = Buffer.from(filler);
    p.writeUInt32BE(seq, 0);
    return p;
  };
  const frames = [];
  for (let s = 0; s < totalMsgs; s++) {
    const p = payloadOf(s);
    const f = Buffer.allocUnsafe(frameSize(size));
    encodeFrame(f, 0, 2, p, nonZeroMask());
    frames.push(f);
  }
  const delivered = new Uint32Array(totalMsgs);
  const pubAt = new Float64Array(totalMsgs);
  const hist = new Histogram();
  let nextSeq = 0;
  let completed = 0; // messages delivered to every subscriber
  let deliveries = 0;
  let tStart = 0;
  let tEnd = 0;
  let a = null;
  let done;
  const finished = new Promise(r => (done = r));
  let now = 0;
  let opened = 0;
  let resolveOpen;
  const allOpen = new Promise(r => (resolveOpen = r));
  const socks = [];
  let publisher = null;

  const publish = () => {
    while (nextSeq < totalMsgs && nextSeq - completed < pubWindow) {
      if (nextSeq === warm && completed < warm) return; // measured phase starts from an empty pipeline
      if (nextSeq === warm) {
        a = snapshot();
        tStart = a.t;
      }
      pubAt[nextSeq] = performance.now();
      publisher.write(frames[nextSeq]);
      nextSeq++;
    }
  };

  const makeConn = isPublisher => {
    let expectSeq = 0;
    let head = Buffer.alloc(4);
    let bad = false;
    let sock = null;
    const conn = {
      onPayload(chunk, s, e, off) {
        for (let i = s; i < e && off + i - s < 4; i++) head[off + i - s] = chunk[i];
        const from = Math.max(off, 4);
        const to = off + (e - s);
        if (to > size || from >= to) return;
        if (filler.compare(chunk, s + (from - off), e, from, to) !== 0) bad = true;
      },
      onMessage(op, len) {
        if (op !== 2) return parser.error(`broadcast opcode ${op}`);
        if (len !== size) return parser.error(`broadcast length ${len}, expected ${size}`);
        if (bad) return parser.error('broadcast payload corrupted');
        const seq = head.readUInt32BE(0);
        if (seq !== expectSeq) return parser.error(`broadcast sequence ${seq}, expected ${expectSeq}`);
        expectSeq++;
        if (isPublisher) return true;
        deliveries++;
        if (seq >= warm) hist.record((now - pubAt[seq]) * 1000);
        if (++delivered[seq] === subs) {
          // Messages complete in order because every subscriber receives them in order.
          completed++;
          if (completed === totalMsgs) {
            tEnd = performance.now();
            done();
          } else publish();
        }
        return true;
      },
      pong(payload) {
        sock.write(pongFrame(payload));
      },
    };
    const parser = new FrameParser(conn);
    sock = connect('/broadcast', {
      onOpen() {
        if (++opened === subs + 1) resolveOpen();
      },
      onData(buf, n, from = 0) {
        if (parser.dead) return;
        now = performance.now();
        if (!parser.push(buf, from, n)) {
          sock.destroy();
          done();
        }
      },
      onError(msg) {
        fail(msg);
        sock.destroy();
        resolveOpen();
        done();
      },
      onClose() {
        if (!tEnd) {
          fail('connection closed during the run');
          resolveOpen();
          done();
        }
      },
    });
    socks.push(sock);
    return sock;
  };

  // Open subscribers with bounded concurrency so the listen backlog never overflows.
  await openMany(
    subs,
    () => makeConn(false),
    () => opened
  );
  publisher = makeConn(true);
  await allOpen;
  await sleep(200); // let the server finish registering the last subscribers in the room
  if (errors.length === 0) {
    publish();
    const timer = setTimeout(() => {
      fail(`timeout: ${completed}/${totalMsgs} messages delivered to everybody`);
      done();
    }, 120_000);
    await finished;
    clearTimeout(timer);
  }
  const b = snapshot();
  for (const s of socks) s.destroy();
  const measuredDeliveries = (totalMsgs - warm) * subs;
  const secs = (tEnd - tStart) / 1000;
  const cpu = a ? cpuReport(a, b) : {};
  return finish({
    ok: errors.length === 0 && tEnd > 0,
    scenario: 'broadcast',
    subs,
    payload: size,
    messages: measuredMsgs,
    deliveries: measuredDeliveries,
    deliveries_per_s: secs > 0 ? Math.round(measuredDeliveries / secs) : 0,
    time_ms: Math.round(secs * 1000),
    verified: deliveries,
    latency: hist.summary(),
    ...cpu,
  });
}

/** Starts `count` connections through `make`, keeping at most `concurrency` handshakes in flight. */
async function openMany(count, make, openedCount) {
  const conc = Number(opt.concurrency);
  let started = 0;
  while (started < count && errors.length === 0) {
    while (started < count && started - openedCount() < conc) {
      make();
      started++;
    }
    await sleep(1);
  }
  while (openedCount() < count && errors.length === 0) await sleep(1);
}

// ---------------------------------------------------------------------------------------------------
// connrate: connect + handshake + close (FIN), concurrency in flight; warm-up is the first 10%.

async function connrate() {
  const count = Number(opt.count);
  const warm = Math.ceil(count / 10);
  const conc = Number(opt.concurrency);
  const hist = new Histogram();
  let started = 0;
  let finishedN = 0;
  let a = null;
  let tStart = 0;
  let tEnd = 0;
  let done;
  const allDone = new Promise(r => (done = r));
  const startOne = () => {
    const t0 = performance.now();
    const seq = started++;
    let ended = false;
    const sock = connect('/echo', {
      onOpen() {
        if (seq >= warm) hist.record((performance.now() - t0) * 1000);
        ended = true;
        sock.end();
        next();
      },
      onData() {},
      onError(msg) {
        if (ended) return;
        ended = true;
        fail(msg);
        sock.destroy();
        next();
      },
      onClose() {
        if (!ended) {
          ended = true;
          fail('closed before handshake');
          next();
        }
      },
    });
  };
  const next = () => {
    finishedN++;
    if (finishedN === warm) {
      a = snapshot();
      tStart = a.t;
    }
    if (finishedN === warm + count) {
      tEnd = performance.now();
      done();
      return;
    }
    if (started < warm + count && errors.length === 0) startOne();
    else if (errors.length) done();
  };
  for (let i = 0; i < conc; i++) startOne();
  await allDone;
  const b = snapshot();
  const secs = (tEnd - tStart) / 1000;
  return finish({
    ok: errors.length === 0 && tEnd > 0,
    scenario: 'connrate',
    count,
    concurrency: conc,
    handshakes_per_s: secs > 0 ? Math.round(count / secs) : 0,
    latency: hist.summary(),
    ...(a ? cpuReport(a, b) : {}),
  });
}

// ---------------------------------------------------------------------------------------------------
// idle: count open, idle connections; server RSS growth per connection after a settle time.

async function idle() {
  const count = Number(opt.count);
  const before = serverPid ? procSample(serverPid) : null;
  let opened = 0;
  const socks = [];
  await openMany(
    count,
    () => {
      const sock = connect('/echo', {
        onOpen() {
          opened++;
        },
        onData() {},
        onError(msg) {
          fail(msg);
          sock.destroy();
        },
        onClose() {},
      });
      socks.push(sock);
    },
    () => opened
  );
  await sleep(Number(opt.settle) * 1000);
  const after = serverPid ? procSample(serverPid) : null;
  for (const s of socks) s.destroy();
  const delta = before && after ? after.rss - before.rss : 0;
  return finish({
    ok: errors.length === 0 && opened === count && delta > 0,
    scenario: 'idle',
    count,
    rss_before: before?.rss ?? null,
    rss_after: after?.rss ?? null,
    rss_bytes_per_conn: Math.round(delta / count),
  });
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

function finish(result) {
  result.errors = errors;
  process.stdout.write(JSON.stringify(result) + '\n');
  // Sockets are destroyed; exit now rather than waiting for the event loop to drain close events.
  process.exit(0);
}

const run = { echo, broadcast, connrate, idle }[opt.scenario];
if (!run || !port) {
  console.error('usage: client.mjs --scenario echo|broadcast|connrate|idle --port P [--pid SERVER_PID] ...');
  process.exit(2);
}
await run();
