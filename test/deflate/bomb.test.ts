// A deflate bomb (64 KiB compressed, ~64 MiB inflated) closes with 1009 and the server's RSS stays flat.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { RawConnection, Op } from '../conformance/client.js';
import { clientFrame } from '../support/frames.js';

type Reply = { port?: number; rss?: number; closed?: number };

function nextReply(child: ChildProcess): Promise<Reply> {
  return new Promise((resolve, reject) => {
    child.once('message', m => resolve(m as Reply));
    child.once('exit', code => reject(new Error(`server child exited (${code})`)));
  });
}

const compress = (data: Buffer): Buffer => {
  const out = deflateRawSync(data, { finishFlush: 2 });
  return out.subarray(0, out.length - 4);
};

void it('deflate bomb: 1009, inflation stops early, peak RSS grows by less than 8 MiB', async () => {
  const child = fork(fileURLToPath(new URL('./bomb-server.js', import.meta.url)), {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const { port } = await nextReply(child);
    assert.ok(port);
    const offer = 'permessage-deflate; server_no_context_takeover';
    // Warm up: one ordinary compressed message, so zlib and the code paths are loaded before measuring.
    const warm = await RawConnection.open(port, '/warm', 4000, offer);
    await warm.write(clientFrame({ opcode: Op.Binary, payload: compress(Buffer.alloc(4096, 7)), rsv: 4 }));
    await warm.expectMessage(Op.Binary, Buffer.alloc(4096, 7), 4000);
    warm.destroy();
    await nextReply(child); // its close
    child.send({ cmd: 'rss' });
    const before = (await nextReply(child)).rss!;

    const bomb = compress(Buffer.alloc(72 * 1024 * 1024)).subarray(0, 64 * 1024);
    assert.equal(bomb.length, 64 * 1024);
    const conn = await RawConnection.open(port, '/bomb', 4000, offer);
    assert.match(conn.extensions, /^permessage-deflate/);
    const closed = nextReply(child);
    await conn.write(clientFrame({ opcode: Op.Binary, payload: bomb, rsv: 4 }), 16 * 1024, true);
    await conn.expectClose([1009], undefined, 8000);
    conn.destroy();
    const after = (await closed).rss!;
    const grew = (after - before) / 1024 / 1024;
    process.stderr.write(
      `# bomb: server peak RSS before ${(before / 1048576).toFixed(1)} MiB, after ${(after / 1048576).toFixed(1)} MiB\n`
    );
    assert.ok(grew < 8, `RSS grew by ${grew.toFixed(1)} MiB`);
  } finally {
    child.send({ cmd: 'exit' });
    await new Promise(r => child.once('exit', r));
  }
});
