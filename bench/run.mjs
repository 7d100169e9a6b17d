// Benchmark driver: runs each server and scenario alternately (A B A B, fresh server per run), pinned to
// separate cores, with the load client in its own process; prints medians and ratios and saves the JSON.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSample } from './proc-stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/** The servers we know how to start; `raw` ones speak no WebSocket and only do echo. */
const SERVERS = {
  nextrush: {
    file: join(root, 'build/bench/servers/nextrush.js'),
    env: {},
    label: 'nextrush (ours)',
  },
  'nextrush-limits': {
    file: join(root, 'build/bench/servers/nextrush.js'),
    env: { BENCH_LIMITS: 'on' },
    label: 'nextrush, messageRate + clientLimits on',
  },
  ws: {
    file: join(here, 'servers/ws.mjs'),
    env: { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' },
    label: 'ws',
  },
  'ws-native': { file: join(here, 'servers/ws.mjs'), env: {}, label: 'ws + bufferutil' },
  'tcp-echo': { file: join(here, 'servers/tcp-echo.mjs'), env: {}, raw: true, label: 'raw TCP echo' },
  'tcp-bcast': {
    file: join(here, 'servers/tcp-echo.mjs'),
    args: ['bcast'],
    env: {},
    raw: true,
    label: 'raw TCP fan-out',
  },
};

/** Scenario -> client arguments, the primary metric, and whether bigger is better. */
function scenarios(o) {
  const echo = (payload, text) => ({
    args: ['--scenario', 'echo', '--conns', o.conns, '--window', '16', '--payload', String(payload)]
      .concat(['--duration', o.duration, '--warmup', o.warmup])
      .concat(text ? ['--text'] : []),
    metric: 'msgs_per_s',
    unit: 'msg/s',
    higher: true,
    echo: true,
  });
  const bcast = (subs, messages) => ({
    args: [
      '--scenario',
      'broadcast',
      '--subs',
      o.subs ?? String(subs),
      '--messages',
      String(messages),
    ].concat(['--payload', '64']),
    metric: 'deliveries_per_s',
    unit: 'deliveries/s',
    higher: true,
  });
  return {
    'echo-32': echo(32),
    'echo-1k': echo(1024),
    'echo-64k': echo(65536),
    'echo-text-1k': echo(1024, true),
    'bcast-1k': bcast(1000, 500),
    'bcast-5k': bcast(5000, 100),
    connrate: {
      args: ['--scenario', 'connrate', '--count', o.count ?? '5000', '--concurrency', '64'],
      metric: 'handshakes_per_s',
      unit: 'handshakes/s',
      higher: true,
    },
    idle: {
      args: ['--scenario', 'idle', '--count', o.count ?? '10000', '--concurrency', '64', '--settle', '2'],
      metric: 'rss_bytes_per_conn',
      unit: 'RSS bytes/conn',
      higher: false,
    },
  };
}

const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    scenarios: { type: 'string' },
    servers: { type: 'string' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    conns: { type: 'string', default: '50' },
    subs: { type: 'string' },
    count: { type: 'string' },
    'wait-quiet': { type: 'string', default: '20' },
    'quiet-limit': { type: 'string', default: '15' },
    'noise-limit': { type: 'string', default: '10' },
    'retry-noisy': { type: 'string', default: '1' },
    'server-core': { type: 'string', default: '0' },
    'client-core': { type: 'string', default: '1' },
    out: { type: 'string' },
    report: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (opt.help) {
  console.log(`usage: npm run bench -- [options]
  --servers a,b       ${Object.keys(SERVERS).join(', ')} (default: nextrush,ws,ws-native if built, else ws,ws-native);
                      nextrush@DIR = the nextrush server built in another checkout (before/after runs)
  --scenarios a,b     ${Object.keys(scenarios({})).join(', ')} (default: all)
  --reps N            runs per server and scenario (default 3), alternating A B A B
  --duration S        measured seconds for echo (default 5, after --warmup 1)
  --conns N / --subs N / --count N   shrink a scenario (smoke tests)
  --wait-quiet S      wait up to S s for an idle machine before each run (default 20)
  --out FILE          where to save the JSON (default bench/results/<time>-<servers>.json)
  --report FILE       re-print the table of a saved JSON`);
  process.exit(0);
}

if (opt.report) {
  const saved = JSON.parse(readFileSync(opt.report, 'utf8'));
  console.log(table(saved));
  process.exit(0);
}

const serverNames = (
  opt.servers ?? (existsSync(SERVERS.nextrush.file) ? 'nextrush,ws,ws-native' : 'ws,ws-native')
).split(',');
for (const s of serverNames) {
  // `nextrush@DIR`: the nextrush server of another checkout (built there), e.g. old main for before/after.
  if (s.startsWith('nextrush@')) {
    const dir = resolve(s.slice('nextrush@'.length));
    SERVERS[s] = { file: join(dir, 'build/bench/servers/nextrush.js'), env: {}, label: `nextrush (${dir})` };
  }
  if (!SERVERS[s]) throw new Error(`unknown server ${s}`);
  if (!existsSync(SERVERS[s].file)) throw new Error(`${s}: ${SERVERS[s].file} not found (npm run compile?)`);
}
const allScenarios = scenarios(opt);
const scenarioNames = (opt.scenarios ?? Object.keys(allScenarios).join(',')).split(',');
for (const s of scenarioNames) if (!allScenarios[s]) throw new Error(`unknown scenario ${s}`);

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const tmpDir = join(here, 'results/tmp');
mkdirSync(tmpDir, { recursive: true });

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitListening(port, child, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise(r => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error('server did not listen in time');
}

/** Busy % of one core used by the whole machine over `ms`, to wait for other users to go quiet. */
async function machineBusy(ms = 500) {
  const a = cpuSample();
  await sleep(ms);
  const b = cpuSample();
  const total = b.cores.reduce((s, c, i) => s + c.total - a.cores[i].total, 0);
  return total > 0 ? Math.round((1000 * (b.busy - a.busy) * b.cores.length) / total) / 10 : 0;
}

async function waitQuiet() {
  const end = Date.now() + Number(opt['wait-quiet']) * 1000;
  let busy = await machineBusy();
  while (busy > Number(opt['quiet-limit']) && Date.now() < end) busy = await machineBusy(1000);
  return busy;
}

const pin = (core, cmd) => (hasTaskset ? ['taskset', ['-c', core, ...cmd]] : [cmd[0], cmd.slice(1)]);

/** `nextrush@/some/dir` -> `nextrush@_some_dir`, usable in a file name. */
const fileSafe = name => name.replace(/[^\w@.-]/g, '_');

async function runOnce(serverName, scenarioName, rep) {
  const server = SERVERS[serverName];
  const sc = allScenarios[scenarioName];
  const port = await freePort();
  const log = openSync(join(tmpDir, `${fileSafe(serverName)}-${scenarioName}-${rep}.log`), 'w');
  const [cmd, args] = pin(opt['server-core'], [
    process.execPath,
    server.file,
    String(port),
    ...(server.args ?? []),
  ]);
  const child = spawn(cmd, args, { env: { ...process.env, ...server.env }, stdio: ['ignore', log, log] });
  const exited = new Promise(r => child.on('exit', r));
  try {
    await waitListening(port, child);
    await sleep(300); // let the server's start-up work (JIT, GC) finish before its RSS or CPU is read
    const quiet = await waitQuiet();
    const clientArgs = [
      join(here, 'client.mjs'),
      '--port',
      String(port),
      '--pid',
      String(child.pid),
      ...sc.args,
    ];
    if (server.raw) clientArgs.push('--raw');
    const [ccmd, cargs] = pin(opt['client-core'], [process.execPath, ...clientArgs]);
    const out = await new Promise((res, rej) => {
      const c = spawn(ccmd, cargs, { stdio: ['ignore', 'pipe', 'inherit'] });
      let buf = '';
      c.stdout.on('data', d => (buf += d));
      const timer = setTimeout(() => c.kill('SIGKILL'), 300_000);
      c.on('exit', code => {
        clearTimeout(timer);
        if (code !== 0) rej(new Error(`client exited with ${code}`));
        else res(buf);
      });
    });
    const result = JSON.parse(out.trim().split('\n').pop());
    // The client's own `scenario` field is its mode (echo, broadcast...): keep the scenario name on top.
    return {
      ...result,
      mode: result.scenario,
      server: serverName,
      scenario: scenarioName,
      rep,
      port,
      quiet_before_pct: quiet,
    };
  } catch (e) {
    return { server: serverName, scenario: scenarioName, rep, ok: false, errors: [String(e.message ?? e)] };
  } finally {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------------------------------------------
// Reporting

// A function declaration (hoisted), so that --report, which prints before this point is reached, can use it.
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  if (Math.abs(x) >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (Math.abs(x) >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  return String(Math.round(x));
}

/** Median [min-max] of a field over the successful runs of one server and scenario. */
function stat(runs, pick) {
  const xs = runs.map(pick).filter(x => typeof x === 'number');
  if (xs.length === 0) return { med: NaN, text: 'n/a' };
  const med = median(xs);
  return {
    med,
    text: xs.length > 1 ? `${fmt(med)} [${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}]` : fmt(med),
  };
}

function table(saved) {
  const { servers, scenarios: names, runs, meta } = saved;
  const defs = scenarios({});
  const base = servers[0];
  const head = ['scenario', 'metric', ...servers.map(s => SERVERS[s]?.label ?? s)];
  const others = servers.slice(1);
  head.push(...others.map(o => `${base}/${o}`));
  const rows = [];
  const notes = [];
  for (const sc of names) {
    const def = defs[sc];
    const ok = s => runs.filter(r => r.server === s && r.scenario === sc && r.ok);
    const lines = [[def.unit, r => r[def.metric]]];
    if (sc !== 'idle') lines.push(['p99 latency (us)', r => r.latency?.p99_us]);
    if (sc !== 'idle') lines.push(['client process CPU %', r => r.client_cpu_pct]);
    if (sc !== 'idle') lines.push(['client core busy %', r => r.core_busy_pct?.[Number(meta.client_core)]]);
    if (sc !== 'idle') lines.push(['server CPU %', r => r.server_cpu_pct]);
    // On a shared machine the server gets a varying share of its core: work per server CPU-second is the
    // figure that noise disturbs least (it still moves with cache and frequency effects).
    if (def.higher) {
      lines.push([
        `${def.unit} per server CPU-s`,
        r => (r.server_cpu_pct > 0 ? r[def.metric] / (r.server_cpu_pct / 100) : undefined),
      ]);
    }
    for (const [label, pick] of lines) {
      const stats = servers.map(s => stat(ok(s), pick));
      const row = [sc, label, ...stats.map(s => s.text)];
      for (let i = 1; i < servers.length; i++) {
        const ratio = stats[0].med / stats[i].med;
        row.push(
          label.startsWith('client') || label.startsWith('server') || !Number.isFinite(ratio)
            ? ''
            : ratio.toFixed(2)
        );
      }
      rows.push(row);
    }
    for (const s of servers) {
      const all = runs.filter(r => r.server === s && r.scenario === sc);
      const failed = all.filter(r => !r.ok);
      if (failed.length)
        notes.push(`${s} ${sc}: ${failed.length} failed run(s): ${failed[0].errors?.[0] ?? '?'}`);
      // Core busy % includes other users of the core, so it only counts when the run was not disturbed.
      const sat = ok(s).filter(
        r =>
          r.client_cpu_pct > 90 ||
          ((r.core_busy_pct?.[Number(meta.client_core)] ?? 0) > 90 && r.other_cpu_pct <= meta.noise_limit)
      );
      if (sat.length)
        notes.push(
          `${s} ${sc}: client core saturated (>90%) in ${sat.length} run(s): client-bound, the server may be faster`
        );
      const noisy = ok(s).filter(r => r.other_cpu_pct > Number(meta.noise_limit));
      if (noisy.length)
        notes.push(
          `${s} ${sc}: ${noisy.length} run(s) disturbed by other processes (other CPU > ${meta.noise_limit}%)`
        );
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => String(r[i] ?? '').length)));
  const line = r => `| ${r.map((c, i) => String(c ?? '').padEnd(widths[i])).join(' | ')} |`;
  const out = [line(head), `|${widths.map(w => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)];
  out.push('', `ratio = ${base} / other (higher is better for throughput, lower for latency and memory).`);
  const other = runs.filter(r => r.ok && typeof r.other_cpu_pct === 'number').map(r => r.other_cpu_pct);
  if (other.length)
    out.push(
      `other CPU on the machine during measured windows: median ${median(other).toFixed(1)}%, max ${Math.max(...other)}% of a core.`
    );
  if (notes.length) out.push('', ...notes.map(n => `- ${n}`));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpuSample().cores.length,
  cpu_model: (/model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [])[1] ?? '?',
  taskset: hasTaskset,
  server_core: opt['server-core'],
  client_core: opt['client-core'],
  noise_limit: Number(opt['noise-limit']),
  options: opt,
};
const runs = [];
const saved = { meta, servers: serverNames, scenarios: scenarioNames, runs };
for (const sc of scenarioNames) {
  for (let rep = 1; rep <= Number(opt.reps); rep++) {
    for (const s of serverNames) {
      let r;
      for (let attempt = 0; attempt <= Number(opt['retry-noisy']); attempt++) {
        r = await runOnce(s, sc, rep);
        if (!(r.ok && r.other_cpu_pct > meta.noise_limit) || attempt === Number(opt['retry-noisy'])) break;
        console.error(`  noisy (other CPU ${r.other_cpu_pct}%), re-running`);
      }
      runs.push(r);
      const m = allScenarios[sc].metric;
      console.error(
        `${sc} rep ${rep} ${s}: ${r.ok ? `${fmt(r[m])} ${allScenarios[sc].unit}` : `FAILED ${r.errors?.[0] ?? ''}`}` +
          (r.core_busy_pct ? ` (cores ${r.core_busy_pct.join('/')}%, other ${r.other_cpu_pct}%)` : '')
      );
    }
  }
}
const outFile =
  opt.out ??
  join(
    here,
    'results',
    `${meta.date.replace(/[:.]/g, '').slice(0, 15)}-${serverNames.map(fileSafe).join('-')}.json`
  );
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(saved, null, 1) + '\n');
console.log(table(saved));
console.log(`\nsaved ${outFile}`);
process.exit(runs.every(r => r.ok) ? 0 : 1);
