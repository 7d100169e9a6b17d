// One worker of `npm run bench:100k`: opens its share of WebSocket clients from its own loopback source
// addresses, answers pings, and reports when every one of its clients has received a broadcast.
// Lean on purpose: one shared read buffer, one small state object per connection, no per-message allocation.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Masked empty pong (opcode 0xA), mask key 1,2,3,4: one constant frame for every ping answer. */
const PONG = Buffer.from([0x8a, 0x80, 1, 2, 3, 4]);
/** Shared by every socket of this worker: reads land here, so idle sockets hold no buffer of their own. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

const now = () => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC in ms: comparable across processes

const conns = [];
let pings = 0;
let received = 0;
let expected = 0;
let expectSeq = -1;
let lastReceiptAt = 0;
let armedReport = null;
let failures = 0;
let firstError = '';

function fail(c, why) {
  failures++;
  if (!firstError) firstError = why;
  c.dead = true;
  c.socket.destroy();
}

/** Server frames after the handshake: the broadcast (binary, 8-byte sequence number) and pings. */
function onFrames(c, buf, start, end) {
  let data = buf;
  let i = start;
  if (c.tail) {
    data = Buffer.concat([c.tail, buf.subarray(start, end)]);
    c.tail = null;
    i = 0;
    end = data.length;
  }
  while (i < end) {
    if (end - i < 2) break;
    const b0 = data[i];
    let len = data[i + 1];
    let hdr = 2;
    if (len & 0x80) return fail(c, 'masked server frame');
    if (len === 126) {
      if (end - i < 4) break;
      len = data.readUInt16BE(i + 2);
      hdr = 4;
    } else if (len === 127) return fail(c, 'unexpected 64-bit length');
    if (end - i < hdr + len) break;
    const op = b0 & 0x0f;
    if (op === 0x9) {
      pings++;
      c.socket.write(PONG);
    } else if (op === 0x2 && len === 8) {
      const seq = data.readUInt32BE(i + hdr + 4);
      if (seq === expectSeq && c.lastSeq !== seq) {
        c.lastSeq = seq;
        received++;
        if (received === expected) {
          lastReceiptAt = now();
          if (armedReport) armedReport();
        }
      }
    } else if (op === 0x8)
      return fail(c, `server closed (${len >= 2 ? data.readUInt16BE(i + hdr) : 'no code'})`);
    else if (op !== 0xa) return fail(c, `unexpected opcode ${op} len ${len}`);
    i += hdr + len;
  }
  if (i < end) c.tail = Buffer.from(data.subarray(i, end));
}

function onRead(c, nread, buf) {
  if (c.open) {
    onFrames(c, buf, 0, nread);
    return;
  }
  c.head += buf.toString('latin1', 0, nread);
  const endOfHead = c.head.indexOf('\r\n\r\n');
  if (endOfHead < 0) {
    if (c.head.length > 4096) fail(c, 'handshake response too long');
    return;
  }
  const head = c.head.slice(0, endOfHead);
  if (!head.startsWith('HTTP/1.1 101 ')) return fail(c, `handshake: ${head.split('\r\n')[0]}`);
  const accept = /\r\nsec-websocket-accept: *([^\r]+)/i.exec(head);
  if (!accept || accept[1].trim() !== c.accept) return fail(c, 'bad Sec-WebSocket-Accept');
  const rest = Buffer.from(c.head.slice(endOfHead + 4), 'latin1');
  c.head = '';
  c.accept = '';
  c.open = true;
  c.onOpen();
  if (rest.length > 0) onFrames(c, rest, 0, rest.length);
}

function openOne(opts, localAddress) {
  return new Promise(resolve => {
    const key = randomBytes(16).toString('base64');
    const c = { socket: null, open: false, dead: false, head: '', tail: null, lastSeq: -1, onOpen: null };
    c.accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    c.onOpen = () => resolve(true);
    const socket = net.connect({
      host: opts.host,
      port: opts.port,
      localAddress,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => onRead(c, n, buf) },
    });
    c.socket = socket;
    socket.on('connect', () => {
      socket.write(
        `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`
      );
    });
    socket.on('error', err => {
      if (!c.dead) fail(c, `socket error ${err.code ?? err.message}`);
      resolve(false);
    });
    socket.on('close', () => {
      if (!c.dead && c.open) fail(c, 'closed by server');
      resolve(false);
    });
    conns.push(c);
  });
}

async function openAll(opts) {
  const started = now();
  let next = 0;
  let opened = 0;
  const lane = async () => {
    while (next < opts.count) {
      const i = next++;
      if (await openOne(opts, opts.localAddresses[i % opts.localAddresses.length])) opened++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, lane));
  const ms = now() - started;
  // A connection that opened and then died (reset, closed by the server) does not count as open.
  return {
    opened: conns.filter(c => c.open && !c.dead).length,
    handshakes: opened,
    ms,
    failures,
    firstError,
  };
}

process.on('message', async msg => {
  if (msg.cmd === 'open') {
    process.send({ cmd: 'opened', ...(await openAll(msg.opts)) });
  } else if (msg.cmd === 'arm') {
    // Wait for broadcast `seq` on every live connection; report the time the last one got it.
    expectSeq = msg.seq;
    received = 0;
    expected = conns.filter(c => c.open && !c.dead).length;
    lastReceiptAt = 0;
    armedReport = () => {
      armedReport = null;
      process.send({ cmd: 'received', seq: msg.seq, at: lastReceiptAt, received });
    };
    process.send({ cmd: 'armed' });
  } else if (msg.cmd === 'publish') {
    // Worker 0 publishes: an 8-byte binary frame carrying the sequence number, masked with key 0.
    const frame = Buffer.alloc(2 + 4 + 8);
    frame[0] = 0x82;
    frame[1] = 0x80 | 8;
    frame.writeUInt32BE(msg.seq, 6 + 4);
    const publisher = conns.find(c => c.open && !c.dead);
    const at = now();
    publisher.socket.write(frame);
    process.send({ cmd: 'published', at });
  } else if (msg.cmd === 'stats') {
    process.send({
      cmd: 'stats',
      pings,
      failures,
      firstError,
      live: conns.filter(c => c.open && !c.dead).length,
    });
  } else if (msg.cmd === 'status') {
    process.send({ cmd: 'status', received, expected });
  } else if (msg.cmd === 'exit') {
    for (const c of conns) c.socket.destroy();
    process.exit(0);
  }
});
