// Smoke test of the benchmark harness: a tiny run against the ws server yields a well-formed, verified result,
// and the load client rejects a server that echoes wrong bytes. No timing thresholds: benchmarks are not tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

// Compiled to build/test/, so the repository root is two levels up.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  ok: boolean;
  server: string;
  scenario: string;
  errors: string[];
  verified: number;
  msgs_per_s?: number;
  deliveries_per_s?: number;
  latency: { n: number; p50_us: number; p99_us: number };
  client_cpu_pct: number;
  core_busy_pct: number[];
}

function node(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('exit', code => res({ code, stdout, stderr }));
  });
}

void test('bench harness: a tiny ws run produces verified echo and broadcast results', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  try {
    const out = join(dir, 'result.json');
    const r = await node([
      'bench/run.mjs',
      '--servers',
      'ws',
      '--scenarios',
      'echo-32,bcast-1k',
      '--reps',
      '1',
      '--duration',
      '1',
      '--warmup',
      '0.2',
      '--conns',
      '4',
      '--subs',
      '20',
      '--wait-quiet',
      '0',
      '--retry-noisy',
      '0',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| echo-32 /);
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { servers: string[]; runs: Run[] };
    assert.deepEqual(saved.servers, ['ws']);
    assert.equal(saved.runs.length, 2);
    const [echo, bcast] = saved.runs;
    for (const run of [echo, bcast]) {
      assert.equal(run.ok, true, run.errors.join('; '));
      assert.deepEqual(run.errors, []);
      assert.ok(run.verified > 0, 'payloads were verified');
      assert.ok(run.latency.n > 0 && run.latency.p99_us >= run.latency.p50_us);
      assert.equal(typeof run.client_cpu_pct, 'number');
      assert.ok(Array.isArray(run.core_busy_pct));
    }
    assert.equal(echo.scenario, 'echo-32');
    assert.ok((echo.msgs_per_s ?? 0) > 0);
    assert.equal(bcast.scenario, 'bcast-1k');
    assert.ok((bcast.deliveries_per_s ?? 0) > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('bench client: rejects a server whose echo has one wrong byte', async () => {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', ws =>
    ws.on('message', (data: Buffer, isBinary) => {
      const copy = Buffer.from(data);
      copy[copy.length - 1] ^= 1;
      ws.send(copy, { binary: isBinary });
    })
  );
  await new Promise<void>(r => http.listen(0, '127.0.0.1', r));
  try {
    const { port } = http.address() as AddressInfo;
    const r = await node([
      'bench/client.mjs',
      '--scenario',
      'echo',
      '--port',
      String(port),
      '--conns',
      '2',
      '--duration',
      '0.3',
      '--warmup',
      '0.1',
    ]);
    const result = JSON.parse(r.stdout) as Run;
    assert.equal(result.ok, false);
    assert.match(result.errors.join('\n'), /payload differs/);
  } finally {
    for (const c of wss.clients) c.terminate();
    wss.close();
    http.close();
  }
});
