// Paired before/after runs of several nextrush builds with the shared harness's load generator, for
// differences of a few percent on a noisy machine: builds alternate within each round, each run gets a
// fresh server, and the result is the median over rounds of each build's ratio to the first build in
// the same round (messages or deliveries per server CPU-second), so slow spells hit both sides of a ratio.
//
//   node bench/paired.mjs [--rounds 8] [--loadgen PATH] [--warm] [--pin] -- LOADGEN ARGS -- name=DIR [name=DIR ...]
//   e.g. node bench/paired.mjs -- --scenario echo --conns 50 --window 16 --payload 65536 --duration 2 \
//          --warmup 0.5 -- after=. before=../wt-e634951
//
// DIR is a checkout with build/bench/servers/nextrush.js compiled. --warm runs the load twice on each
// server and keeps the second run (JIT warm), to tell a warm-up cost from a steady-state one. --pin puts
// the server on CPU 0 and the load generator on CPU 1 (taskset), as the shared harness does: the server's
// compiler and GC threads then take time from its main thread instead of running beside it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const argv = process.argv.slice(2);
const first = argv.indexOf('--');
const second = argv.indexOf('--', first + 1);
if (first < 0 || second < 0) {
  console.error(
    readFileSync(new URL(import.meta.url), 'utf8')
      .split('\n')
      .slice(0, 10)
      .join('\n')
  );
  process.exit(2);
}
const own = argv.slice(0, first);
const loadArgs = argv.slice(first + 1, second);
const builds = argv.slice(second + 1).map(spec => {
  const at = spec.indexOf('=');
  return { name: spec.slice(0, at), dir: resolve(spec.slice(at + 1)) };
});
const option = (name, fallback) => {
  const i = own.indexOf(name);
  return i < 0 ? fallback : own[i + 1];
};
const rounds = Number(option('--rounds', '8'));
const warm = own.includes('--warm');
const pin = own.includes('--pin');
const pinned = (cpu, command, args) =>
  pin ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, args];
const loadgen = resolve(option('--loadgen', process.env.LOADGEN ?? '../shared/bench/build/loadgen'));
if (!existsSync(loadgen)) {
  console.error(
    `no load generator at ${loadgen}: the shared harness's run.sh builds it (../shared/bench/run.sh --list), or pass --loadgen PATH`
  );
  process.exit(2);
}
for (const b of builds) {
  if (!existsSync(`${b.dir}/build/bench/servers/nextrush.js`)) {
    console.error(`${b.dir}: build/bench/servers/nextrush.js is missing (npm run compile there)`);
    process.exit(2);
  }
}

const sleep = ms => new Promise(r => setTimeout(r, ms));
const median = a => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One run: a fresh server, the load (twice with --warm), the rate per server CPU-second of the kept run. */
async function run(build, port) {
  const [command, args] = pinned(0, process.execPath, [
    `${build.dir}/build/bench/servers/nextrush.js`,
    String(port),
  ]);
  const server = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((ok, fail) => {
    server.stderr.on('data', d => String(d).includes('server on') && ok());
    server.on('exit', code => fail(new Error(`${build.name}: server exited with ${code}`)));
  });
  let result;
  for (let pass = warm ? 2 : 1; pass > 0; pass--) {
    const [lg, lgArgs] = pinned(1, loadgen, [
      '--port',
      String(port),
      '--pid',
      String(server.pid),
      ...loadArgs,
    ]);
    const out = spawnSync(lg, lgArgs, { encoding: 'utf8' });
    result = JSON.parse(out.stdout.trim().split('\n').pop());
    if (!result.ok) throw new Error(`${build.name}: ${result.first_error ?? 'load generator failed'}`);
    if (pass > 1) await sleep(300);
  }
  server.kill('SIGINT');
  await new Promise(r => server.on('exit', r));
  const rate = result.msgs_per_s ?? result.deliveries_per_s;
  return { rate, perCpu: rate / (result.server_cpu_pct / 100) };
}

const results = builds.map(() => []);
let port = 9300 + Math.floor(Math.random() * 500);
for (let round = 1; round <= rounds; round++) {
  for (let i = 0; i < builds.length; i++) {
    const r = await run(builds[i], port++);
    results[i].push(r);
    console.log(
      `round ${round} ${builds[i].name}: ${r.rate.toFixed(0)}/s, ${r.perCpu.toFixed(0)} per server CPU-s`
    );
  }
}
console.log(
  `\n${warm ? 'warm (second load on each server)' : 'cold (one load per server)'}${pin ? ', pinned' : ''}: ${loadArgs.join(' ')}`
);
for (let i = 0; i < builds.length; i++) {
  const per = results[i].map(r => r.perCpu);
  const line = [`${builds[i].name}: median ${median(per).toFixed(0)} per server CPU-s`];
  if (i > 0) {
    const ratios = per.map((v, k) => v / results[0][k].perCpu);
    line.push(`${builds[i].name}/${builds[0].name} paired median ${median(ratios).toFixed(3)}`);
    line.push(`[${ratios.map(x => x.toFixed(2)).join(' ')}]`);
  }
  console.log(line.join(', '));
}
