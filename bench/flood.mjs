// Bystander echo throughput while one peer floods at full speed: nextrush with messageRate off / drop / close,
// and ws, each with and without the flood. Server pinned to core 0, flooder and bystander to core 1.
// Usage: npm run compile && node bench/flood.mjs [--duration 5] [--reps 3]
import { spawn } from 'node:child_process';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
    conns: { type: 'string', default: '4' },
    window: { type: 'string', default: '4' },
  },
});

const nextrush = join(root, 'build/bench/servers/nextrush.js');
const VARIANTS = [
  { name: 'nextrush, limiter off', file: nextrush, env: { BENCH_LIMITS: 'off' } },
  { name: 'nextrush, messageRate drop', file: nextrush, env: { BENCH_LIMITS: 'drop' } },
  { name: 'nextrush, messageRate close', file: nextrush, env: { BENCH_LIMITS: 'close' } },
  {
    name: 'ws (no limiter)',
    file: join(here, 'servers/ws.mjs'),
    env: { WS_NO_BUFFER_UTIL: '1', WS_NO_UTF_8_VALIDATE: '1' },
  },
];

const sleep = ms => new Promise(r => setTimeout(r, ms));
const pinned = (core, args) => ['taskset', ['-c', String(core), ...args]];

function freePort() {
  return new Promise(res => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitListening(port) {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise(r => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`server on ${port} did not listen`);
}

/** Every child still running, so an interrupted run leaves no server or flooder behind. */
const children = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(1);
  });
}

function run(cmd, args, env = {}) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  child.stdout.on('data', c => (out += c));
  const done = new Promise(r => child.on('exit', () => r(out)));
  return { child, done };
}

async function bystander(port, pid) {
  const [cmd, args] = pinned(1, [
    process.execPath,
    join(here, 'client.mjs'),
    ...['--scenario', 'echo', '--port', String(port), '--pid', String(pid)],
    ...['--conns', opt.conns, '--window', opt.window, '--payload', '32'],
    ...['--duration', opt.duration, '--warmup', '1'],
  ]);
  const out = await run(cmd, args).done;
  let result;
  try {
    result = JSON.parse(out.trim().split('\n').pop());
  } catch {
    throw new Error(`bystander printed no result: ${out.slice(0, 500)}`);
  }
  if (result.errors?.length) throw new Error(`bystander saw errors: ${result.errors.join('; ')}`);
  return result.msgs_per_s;
}

async function once(variant, flood) {
  const port = await freePort();
  const [cmd, args] = pinned(0, [process.execPath, variant.file, String(port)]);
  const server = run(cmd, args, variant.env);
  await waitListening(port);
  let flooder;
  if (flood) {
    const [fc, fa] = pinned(1, [process.execPath, join(here, 'flooder.mjs'), String(port)]);
    flooder = run(fc, fa);
    await sleep(500);
  }
  const rate = await bystander(port, server.child.pid);
  let floodStats;
  if (flooder) {
    flooder.child.kill('SIGTERM');
    floodStats = JSON.parse((await flooder.done).trim() || '{}');
  }
  server.child.kill('SIGTERM');
  await server.done;
  return { rate, floodStats };
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const variant of VARIANTS) {
  const quiet = [];
  const flooded = [];
  let last;
  for (let r = 0; r < Number(opt.reps); r++) {
    quiet.push((await once(variant, false)).rate);
    last = await once(variant, true);
    flooded.push(last.rate);
  }
  rows.push({ name: variant.name, quiet: median(quiet), flooded: median(flooded), flood: last.floodStats });
  console.error(`${variant.name}: quiet ${quiet.join(', ')} / flooded ${flooded.join(', ')} msg/s`);
}
const base = rows.find(r => r.name.startsWith('ws'))?.flooded ?? 1;
console.log(
  `bystander echo (${opt.conns} conns x window ${opt.window}, 32 B), median of ${opt.reps}, ${opt.duration} s each`
);
console.log(
  '| server | quiet msg/s | under flood msg/s | kept | vs ws under flood | flooder frames written / reconnects |'
);
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const f = r.flood ?? {};
  console.log(
    `| ${r.name} | ${Math.round(r.quiet)} | ${Math.round(r.flooded)} | ${((r.flooded / r.quiet) * 100).toFixed(0)}% | ` +
      `${(r.flooded / base).toFixed(2)}x | ${f.framesWritten ?? '?'} / ${Math.max(0, (f.connections ?? 1) - 1)} |`
  );
}
