// Driver of `npm run bench:100k`: 100 000 WebSocket connections on one server process, for nextrush, ws and
// Bun in turn: RSS per connection, time to open them all, time until every client has one broadcast, and
// the heartbeat's cost. Clients are several worker processes spread over loopback source addresses.
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

const { values: opt } = parseArgs({
  options: {
    servers: { type: 'string', default: 'nextrush,ws,bun' },
    count: { type: 'string', default: '100000' },
    workers: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '96' },
    'heartbeat-ms': { type: 'string', default: '10000' },
    broadcasts: { type: 'string', default: '3' },
    'no-pin': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(`usage: npm run bench:100k -- [--servers nextrush,ws,bun] [--count 100000] [--workers 4]
  [--concurrency 96 (handshakes in flight per worker)] [--heartbeat-ms 10000] [--broadcasts 3] [--no-pin] [--out FILE]
Bun: the binary from $BUN, else \`bun\` on PATH; skipped (loudly) when neither exists.
Needs root or a hard open-file limit above 2 x count (bench/100k.sh raises it).`);
  process.exit(0);
}
const COUNT = Number(opt.count);
// The server holds COUNT sockets plus a few: without CAP_SYS_RESOURCE the hard limit cannot be raised.
const NOFILE = Number(process.env.BENCH_NOFILE ?? Infinity);
if (COUNT + 100 > NOFILE) {
  console.error(
    `bench:100k: the open-file limit is ${NOFILE} (bench/100k.sh could not raise it: needs root with ` +
      `CAP_SYS_RESOURCE), so one server process cannot hold ${COUNT} sockets. Re-run where it can be raised, ` +
      `or pass --count ${NOFILE - 1000} to measure at the largest size this machine allows.`
  );
  process.exit(1);
}
const WORKERS = Number(opt.workers);
const HEARTBEAT_MS = Number(opt['heartbeat-ms']);
const BROADCASTS = Number(opt.broadcasts);
/** A source address gives at most ~28 000 ports (ip_local_port_range) towards one server port: use many. */
const SOURCE_ADDRESSES = Array.from({ length: Math.ceil(COUNT / 20_000) + 1 }, (_, i) => `127.0.0.${i + 2}`);
const TIMEOUT_MS = 900_000;

const sleep = ms => new Promise(r => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function findBun() {
  if (process.env.BUN && existsSync(process.env.BUN)) return process.env.BUN;
  try {
    return execFileSync('sh', ['-c', 'command -v bun'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const SERVERS = {
  nextrush: () => ({ cmd: process.execPath, args: [join(root, 'build/bench/servers/nextrush-100k.js')] }),
  ws: () => ({ cmd: process.execPath, args: [join(here, 'servers/ws-100k.mjs')] }),
  bun: () => {
    const bun = findBun();
    return bun ? { cmd: bun, args: [join(here, 'servers/bun-100k.mjs')] } : null;
  },
};

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

/** VmRSS in bytes and utime+stime in ms of a process, from /proc. */
function procStats(pid) {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  return { rss, cpuMs };
}

/** Sends a command to every worker and resolves with each one's reply of kind `reply`. */
function ask(workers, reply, make) {
  return Promise.all(
    workers.map(
      (w, i) =>
        new Promise((res, rej) => {
          const timer = setTimeout(
            () => rej(new Error(`worker ${i}: no '${reply}' within ${TIMEOUT_MS} ms`)),
            TIMEOUT_MS
          );
          const on = m => {
            if (m.cmd !== reply) return;
            w.off('message', on);
            clearTimeout(timer);
            res(m);
          };
          w.on('message', on);
          w.send(make(i));
        })
    )
  );
}

async function measure(name) {
  const spec = SERVERS[name]();
  if (!spec) {
    console.error(`bench:100k: SKIPPED ${name}: no bun binary ($BUN or bun on PATH)`);
    return { server: name, skipped: true };
  }
  const port = await freePort();
  const pin = !opt['no-pin'] && hasTaskset;
  const server = spawn(
    pin ? 'taskset' : spec.cmd,
    pin ? ['-c', '0', spec.cmd, ...spec.args, String(port)] : [...spec.args, String(port)],
    {
      env: { ...process.env, HEARTBEAT_MS: String(HEARTBEAT_MS) },
      stdio: ['ignore', 'pipe', 'inherit'],
    }
  );
  children.add(server);
  const sweeps = [];
  let ready;
  const readyP = new Promise(r => (ready = r));
  let partial = '';
  server.stdout.on('data', d => {
    partial += d;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        const m = JSON.parse(line);
        if (m.ready) ready(m);
        if (m.sweepMs !== undefined) sweeps.push({ at: now(), ms: m.sweepMs });
      } catch {
        console.error(`[${name}] ${line}`);
      }
    }
  });
  const workers = [];
  try {
    const info = await Promise.race([
      readyP,
      sleep(15_000).then(() => Promise.reject(new Error('server not ready'))),
    ]);
    await sleep(1000);
    const before = procStats(server.pid);
    for (let i = 0; i < WORKERS; i++) {
      const w = fork(join(here, '100k-client.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      workers.push(w);
      children.add(w);
    }
    if (pin)
      for (const w of workers) execFileSync('taskset', ['-p', '-c', '1', String(w.pid)], { stdio: 'ignore' });
    const per = Math.ceil(COUNT / WORKERS);
    const t0 = now();
    const opened = await ask(workers, 'opened', i => ({
      cmd: 'open',
      opts: {
        host: '127.0.0.1',
        port,
        path: '/all',
        count: Math.min(per, COUNT - i * per),
        concurrency: Number(opt.concurrency),
        // Each worker gets its own source addresses, so ports never collide between workers.
        localAddresses: SOURCE_ADDRESSES.filter((_, k) => k % WORKERS === i),
      },
    }));
    const openMs = now() - t0;
    const openCount = opened.reduce((a, o) => a + o.opened, 0);
    const openFailures = opened.reduce((a, o) => a + o.failures, 0);
    const firstError = opened.find(o => o.firstError)?.firstError ?? '';
    console.error(
      `[${name}] opened ${openCount}/${COUNT} in ${(openMs / 1000).toFixed(1)} s${firstError ? ` (first error: ${firstError})` : ''}`
    );
    await sleep(3000);
    const after = procStats(server.pid);

    const broadcasts = [];
    for (let seq = 1; seq <= BROADCASTS; seq++) {
      await ask(workers, 'armed', () => ({ cmd: 'arm', seq }));
      const receivedP = ask(workers, 'received', () => ({ cmd: 'noop' }));
      const [{ at: publishedAt }] = await ask([workers[0]], 'published', () => ({ cmd: 'publish', seq }));
      const got = await Promise.race([receivedP, sleep(60_000).then(() => null)]);
      if (!got) {
        const st = await ask(workers, 'status', () => ({ cmd: 'status' }));
        console.error(`[${name}] broadcast ${seq} incomplete: ${JSON.stringify(st)}`);
        broadcasts.push(null);
        break;
      }
      const ms = Math.max(...got.map(g => g.at)) - publishedAt;
      broadcasts.push(ms);
      console.error(
        `[${name}] broadcast ${seq}: all ${got.reduce((a, g) => a + g.received, 0)} clients in ${ms.toFixed(0)} ms`
      );
      await sleep(1000);
    }

    // Heartbeat: server CPU and pings seen by the clients over three heartbeat periods of idle time.
    const s0 = await ask(workers, 'stats', () => ({ cmd: 'stats' }));
    const c0 = procStats(server.pid);
    const hbStart = now();
    await sleep(3 * HEARTBEAT_MS);
    const c1 = procStats(server.pid);
    const s1 = await ask(workers, 'stats', () => ({ cmd: 'stats' }));
    const pings = s1.reduce((a, s) => a + s.pings, 0) - s0.reduce((a, s) => a + s.pings, 0);
    const windowSweeps = sweeps.filter(s => s.at >= hbStart).map(s => s.ms);
    const live = s1.reduce((a, s) => a + s.live, 0);
    const result = {
      server: name,
      version: info.bun ? `bun ${info.bun}` : `node ${process.version}`,
      count: COUNT,
      opened: openCount,
      openFailures,
      firstError,
      openMs,
      rssBefore: before.rss,
      rssAfter: after.rss,
      rssPerConn: (after.rss - before.rss) / openCount,
      broadcastMs: broadcasts,
      heartbeat: {
        windowMs: 3 * HEARTBEAT_MS,
        serverCpuMs: c1.cpuMs - c0.cpuMs,
        pings,
        cpuMsPer100kPings: pings > 0 ? ((c1.cpuMs - c0.cpuMs) * 100_000) / pings : null,
        sweeps: windowSweeps.length,
        sweepMsMedian: windowSweeps.length
          ? windowSweeps.sort((a, b) => a - b)[windowSweeps.length >> 1]
          : null,
        sweepMsMax: windowSweeps.length ? Math.max(...windowSweeps) : null,
      },
      liveAtEnd: live,
    };
    console.error(`[${name}] ${JSON.stringify(result)}`);
    return result;
  } finally {
    for (const w of workers) if (w.connected) w.send({ cmd: 'exit' });
    await sleep(500);
    for (const w of workers) w.kill('SIGKILL');
    server.kill('SIGKILL');
    for (const child of [server, ...workers]) children.delete(child);
    await sleep(2000); // let the kernel reap 2 x 100 000 sockets before the next server
  }
}

const fmtMs = ms =>
  ms == null ? 'n/a' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
const results = [];
/** Children to kill if the driver is interrupted. */
const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}
const hardStop = setTimeout(() => {
  console.error('bench:100k: hard time limit (45 min) reached, stopping');
  process.exit(2);
}, 45 * 60_000);
hardStop.unref();
for (const name of opt.servers.split(',')) {
  try {
    results.push(await measure(name));
  } catch (err) {
    console.error(`[${name}] FAILED: ${err.message}`);
    results.push({ server: name, failed: err.message });
  }
}
const out = opt.out ?? join(here, 'results', `100k-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      meta: {
        date: new Date().toISOString(),
        node: process.version,
        count: COUNT,
        workers: WORKERS,
        heartbeatMs: HEARTBEAT_MS,
        pinned: !opt['no-pin'] && hasTaskset,
      },
      results,
    },
    null,
    2
  )
);

console.log(
  `\n${COUNT} connections, ${WORKERS} client processes, heartbeat ${HEARTBEAT_MS} ms; JSON: ${out}\n`
);
console.log(
  '| server | opened | time to open all | RSS / connection | broadcast to all (each run) | heartbeat: server CPU per 100k pings | JS sweep median / max |'
);
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  if (r.skipped || r.failed) {
    console.log(`| ${r.server} | ${r.skipped ? 'skipped' : `failed: ${r.failed}`} | | | | | |`);
    continue;
  }
  const h = r.heartbeat;
  console.log(
    `| ${r.server} | ${r.opened}${r.openFailures ? ` (${r.openFailures} failed)` : ''} | ${fmtMs(r.openMs)} (${Math.round((r.opened / r.openMs) * 1000)}/s) | ${Math.round(r.rssPerConn)} B | ${r.broadcastMs.map(fmtMs).join(' / ')} | ${h.cpuMsPer100kPings == null ? 'no pings' : `${Math.round(h.cpuMsPer100kPings)} ms (${h.pings} pings)`} | ${h.sweeps ? `${h.sweepMsMedian.toFixed(1)} / ${h.sweepMsMax.toFixed(1)} ms (${h.sweeps} sweeps)` : 'none (native timers)'} |`
  );
}
process.exit(0);
