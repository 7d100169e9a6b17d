// Re-reads a saved run of the shared harness (../shared/bench) and prints, per scenario, each server's
// median throughput per server CPU-second and its ratio to the first server: on a shared, noisy machine
// the server's share of its core varies from run to run, and this is the figure that moves least with it.
//   node bench/per-cpu.mjs bench/results/FILE.json
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/per-cpu.mjs RESULTS.json');
  process.exit(1);
}
const saved = JSON.parse(readFileSync(file, 'utf8'));
const METRICS = { msgs_per_s: 'msg', deliveries_per_s: 'deliveries', handshakes_per_s: 'handshakes' };
const median = xs => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = x =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `${(x / 1e3).toFixed(0)}k` : x.toFixed(0);
const servers = saved.servers.map(s => s.name);
const base = servers[0];
console.log(
  `| scenario | unit | ${servers.join(' | ')} | ${servers
    .slice(1)
    .map(s => `${base}/${s}`)
    .join(' | ')} |`
);
console.log(
  `|---|---|${servers.map(() => '---|').join('')}${servers
    .slice(1)
    .map(() => '---|')
    .join('')}`
);
for (const sc of saved.scenarios.map(s => (typeof s === 'string' ? s : s.name))) {
  const per = {};
  let unit;
  for (const s of servers) {
    const runs = saved.results.filter(
      r => r.server === s && r.scenario === sc && r.ok && r.server_cpu_pct > 0
    );
    const key = Object.keys(METRICS).find(k => runs.some(r => typeof r[k] === 'number' && r[k] > 0));
    if (!key) continue;
    unit = `${METRICS[key]} per server CPU-s`;
    per[s] = median(runs.map(r => r[key] / (r.server_cpu_pct / 100)));
  }
  if (!unit) continue;
  const cells = servers.map(s => (per[s] === undefined ? 'n/a' : fmt(per[s])));
  const ratios = servers.slice(1).map(s => (per[s] && per[base] ? (per[base] / per[s]).toFixed(2) : '-'));
  console.log(`| ${sc} | ${unit} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
}
