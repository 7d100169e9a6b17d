// Compares the frame decoder of several builds on one workload: masked 64 KiB binary frames arriving in
// socket-like reads of 8-64 KiB (fixed cut points), each read a fresh Buffer as a socket gives.
// Each build runs in its own process, the builds alternate, and the median per build is reported
// (one process at a time, so a build's JIT and heap never meet another's).
//   node bench/decode-builds.mjs [--rounds 10] [--passes 150] DIR [DIR ...]   (DIR holds build/src/protocol)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const PAYLOAD = 65536;
const FRAMES = 64;

async function child(dir, passes) {
  const { FrameDecoder } = await import(resolve(dir, 'build/src/protocol/decoder.js'));
  // A fixed LCG makes the payloads, keys and cut points the same for every build.
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const frames = [];
  for (let f = 0; f < FRAMES; f++) {
    const key = [0, 1, 2, 3].map(() => Math.floor(rnd() * 256));
    const frame = Buffer.alloc(14 + PAYLOAD);
    frame.set([0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, ...key]);
    for (let i = 0; i < PAYLOAD; i++) frame[14 + i] = (i * 31 + f) & 0xff;
    frames.push(frame);
  }
  const stream = Buffer.concat(frames);
  const cuts = [];
  for (let p = 0; p < stream.length;) {
    const n = Math.min(stream.length - p, 8192 + Math.floor(rnd() * 57344));
    cuts.push([p, n]);
    p += n;
  }
  let check = 0;
  const sink = {
    onText() {},
    onBinary(d) {
      check += d[100] + d.length;
    },
    onPing() {},
    onPong() {},
    onCloseFrame() {},
    onError(e) {
      throw e;
    },
  };
  const decoder = new FrameDecoder(sink, { maxMessageSize: 1 << 24 });
  const start = process.hrtime.bigint();
  for (let r = 0; r < passes; r++) {
    for (const [p, n] of cuts) {
      const read = Buffer.allocUnsafe(n);
      stream.copy(read, 0, p, p + n);
      decoder.push(read);
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(JSON.stringify({ ms, frames: passes * FRAMES, check }) + '\n');
}

function main() {
  const args = process.argv.slice(2);
  let rounds = 10;
  let passes = 150;
  const dirs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i] === '--passes') passes = Number(args[++i]);
    else dirs.push(args[i]);
  }
  if (dirs.length === 0) {
    console.error('usage: node bench/decode-builds.mjs [--rounds N] [--passes N] DIR [DIR ...]');
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  const times = dirs.map(() => []);
  const checks = new Set();
  for (let r = 0; r < rounds; r++) {
    dirs.forEach((dir, i) => {
      const run = spawnSync(process.execPath, [self, '--child', dir, String(passes)], { encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`${dir}: ${run.stderr}`);
      const out = JSON.parse(run.stdout);
      times[i].push(out.ms);
      checks.add(out.check);
    });
  }
  if (checks.size !== 1) throw new Error('the builds decoded different messages');
  const median = a => [...a].sort((x, y) => x - y)[a.length >> 1];
  const frames = passes * FRAMES;
  const base = median(times[0]);
  dirs.forEach((dir, i) => {
    const m = median(times[i]);
    console.log(
      `${dir}: median ${m.toFixed(0)} ms for ${frames} frames (${((m * 1000) / frames).toFixed(1)} us/frame), ` +
        `${(base / m).toFixed(2)}x the first; all ${times[i].map(t => t.toFixed(0)).join(' ')}`
    );
  });
}

if (process.argv[2] === '--child') await child(process.argv[3], Number(process.argv[4]));
else main();
