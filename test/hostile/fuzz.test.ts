// Server-level fuzz: seeded random frames, valid and invalid, randomly chunked, on many connections while a good client echoes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { prng } from '../protocol/helpers.js';
import { clientFrame, closeCodeOf, delay, echoServer, goodClient, rawWebSocket } from './helpers.js';

const CATALOGUE = new Set([1000, 1002, 1003, 1007, 1008, 1009, 1011]);

interface Plan {
  bytes: Buffer;
  /** Data messages when every frame is valid; undefined when the plan contains a protocol error. */
  validMessages: number | undefined;
  /** Random bytes may declare a payload longer than what follows, so the server rightly waits for more. */
  garbage: boolean;
}

function unmasked(opcode: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

function plan(rand: () => number): Plan {
  const int = (n: number): number => Math.floor(rand() * n);
  const frames: Buffer[] = [];
  let valid = true;
  let garbage = false;
  let messages = 0;
  const count = 1 + int(8);
  for (let i = 0; i < count; i++) {
    const kind = int(14);
    const payload = randomBytes(int(300));
    switch (kind) {
      case 0:
      case 1:
      case 2:
        frames.push(clientFrame(1, Buffer.from('text '.repeat(int(50)))));
        messages++;
        break;
      case 3:
      case 4:
        frames.push(clientFrame(2, payload));
        messages++;
        break;
      case 5: // fragmented binary with a ping in between
        frames.push(clientFrame(2, payload.subarray(0, 10), false));
        frames.push(clientFrame(9, Buffer.from('p')));
        frames.push(clientFrame(0, payload.subarray(10), true));
        messages++;
        break;
      case 6: // invalid UTF-8
        frames.push(clientFrame(1, Buffer.from([0xc3, 0x28])));
        valid = false;
        break;
      case 7: // unmasked
        frames.push(unmasked(2, payload.subarray(0, 100)));
        valid = false;
        break;
      case 8: // reserved opcode
        frames.push(clientFrame(3 + int(5), payload));
        valid = false;
        break;
      case 9: // RSV bits without an extension
        frames.push(clientFrame(2, payload, true, 1 + int(7)));
        valid = false;
        break;
      case 10: // continuation with nothing to continue
        frames.push(clientFrame(0, payload, true));
        valid = false;
        break;
      case 11: // control frame too long or fragmented
        frames.push(
          rand() < 0.5 ? clientFrame(9, Buffer.alloc(126)) : clientFrame(9, Buffer.alloc(1), false)
        );
        valid = false;
        break;
      case 12: // close frame with an invalid code
        frames.push(clientFrame(8, Buffer.from([0x03, 0xed]))); // 1005
        valid = false;
        break;
      default: // garbage
        frames.push(randomBytes(1 + int(40)));
        valid = false;
        garbage = true;
    }
  }
  const close = Buffer.from([0x03, 0xe8]); // 1000
  frames.push(clientFrame(8, close));
  return { bytes: Buffer.concat(frames), validMessages: valid ? messages : undefined, garbage };
}

async function fuzzOne(port: number, seed: number): Promise<void> {
  const rand = prng(seed);
  const { bytes, validMessages, garbage } = plan(rand);
  const { socket, rest } = await rawWebSocket(port);
  let echoes = 0;
  const code = closeCodeOf(socket, rest, opcode => {
    if (opcode === 1 || opcode === 2) echoes++;
  });
  let offset = 0;
  while (offset < bytes.length && !socket.destroyed) {
    const size = 1 + Math.floor(rand() * 64);
    socket.write(bytes.subarray(offset, offset + size));
    offset += size;
    if (rand() < 0.2) await delay(1);
  }
  let result = await Promise.race([code, delay(3000).then(() => 0)]);
  if (result === 0) {
    // Only garbage can leave the server waiting for the rest of a declared payload; then the peer hangs up.
    assert.ok(garbage, `seed ${seed}: no close frame`);
    socket.end();
    result = await code;
    assert.equal(result, 1006);
  } else {
    assert.ok(CATALOGUE.has(result), `seed ${seed}: close code ${result}`);
  }
  socket.destroy();
  if (validMessages !== undefined) {
    assert.equal(result, 1000, `seed ${seed}: valid plan closed with ${result}`);
    assert.equal(echoes, validMessages, `seed ${seed}: echoes of a valid plan`);
  }
}

describe('server-level fuzz', () => {
  it('random frames on many connections: every one ends with a catalogued close code, the good client keeps echoing', async () => {
    const server = await echoServer({ maxMessageSize: 64 * 1024 });
    const good = await goodClient(server.port);
    const base = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const rounds = 5;
    const parallel = 40;
    for (let round = 0; round < rounds; round++) {
      const seeds = Array.from({ length: parallel }, (_, i) => base + round * parallel + i);
      await Promise.all(seeds.map(seed => fuzzOne(server.port, seed)));
      await good.check();
    }
    const stats = server.plugin.getStats();
    assert.ok(stats.protocolErrors > 0, 'the fuzz produced protocol errors');
    while (server.plugin.getStats().connections > 1) await delay(20);
    await good.close();
    await server.app.close();
  });
});
