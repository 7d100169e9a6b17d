// Server RSS per idle connection with and without permessage-deflate: node build/bench/idle-memory.js [N]
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const N = Number(process.argv[2] ?? 2000);

function reply<T>(child: ChildProcess): Promise<T> {
  return new Promise(resolve => child.once('message', m => resolve(m as T)));
}

async function measure(mode: string, sendOne: boolean): Promise<number> {
  const child = fork(fileURLToPath(new URL('./idle-memory-server.js', import.meta.url)), [mode], {
    execArgv: ['--expose-gc'],
  });
  const { port } = await reply<{ port: number }>(child);
  child.send('rss');
  const before = (await reply<{ rss: number }>(child)).rss;
  const clients: WebSocket[] = [];
  for (let i = 0; i < N; i += 100) {
    const batch = Array.from({ length: Math.min(100, N - i) }, () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: mode !== 'off' });
      clients.push(ws);
      return new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => {
          if (!sendOne) return resolve();
          ws.once('message', () => resolve());
          ws.send('{"hello":"world","n":1}'.repeat(20));
        });
      });
    });
    await Promise.all(batch);
  }
  child.send('rss');
  const after = (await reply<{ rss: number }>(child)).rss;
  for (const ws of clients) ws.terminate();
  child.send('exit');
  await new Promise(r => child.once('exit', r));
  return (after - before) / N;
}

const rows: [string, string, boolean][] = [
  ['deflate off', 'off', false],
  ['deflate negotiated, idle (no message yet)', 'on', false],
  ['deflate, no context takeover, after 1 message', 'no-context', true],
  ['deflate, context takeover, after 1 message', 'on', true],
];
console.log(`server RSS delta per connection, N=${N} (node ${process.version})`);
for (const [label, mode, sendOne] of rows) {
  const perConn = await measure(mode, sendOne);
  console.log(`${label.padEnd(48)} ${(perConn / 1024).toFixed(1)} KiB`);
}
