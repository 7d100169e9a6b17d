// Reads CPU and memory counters from /proc (Linux): per-core busy time, and one process's CPU ticks and RSS.
import { readFileSync } from 'node:fs';

/** Per-core and machine-wide busy/total ticks from /proc/stat (busy excludes idle and iowait). */
export function cpuSample() {
  const cores = [];
  let busy = 0;
  for (const line of readFileSync('/proc/stat', 'latin1').split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const f = line.trim().split(/\s+/);
    const v = f.slice(1, 9).map(Number);
    const total = v.reduce((s, x) => s + x, 0);
    const b = total - v[3] - v[4];
    if (f[0] === 'cpu') busy = b;
    else cores.push({ busy: b, total });
  }
  return { busy, cores };
}

/** CPU ticks (utime + stime, 100 per second) and VmRSS in bytes of one process; null when it is gone. */
export function procSample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 2 (comm) may contain spaces; fields after the closing parenthesis are positional.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return { ticks, rss: m ? Number(m[1]) * 1024 : 0 };
  } catch {
    return null;
  }
}
