// Server-level fuzz: seeded random frames, valid and invalid, randomly chunked, on many connections while a good client echoes.
// Every byte (payloads, masks, garbage, chunk sizes) comes from FUZZ_SEED; an independent reference reading of the
// bytes predicts the exact close code of the first violation and the number of echoes before it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSendableCloseCode } from '../conformance/client.js';
import { prng } from '../protocol/helpers.js';
import { clientFrame, closeCodeOf, delay, echoServer, goodClient, rawWebSocket, until } from './helpers.js';

const MAX_MESSAGE_SIZE = 64 * 1024;

/** What the server must answer to a byte stream: a close code, or nothing while it waits for a declared payload. */
interface Outcome {
  /** The close code of the server's close frame, 1005 for an empty one; 'waits' if the bytes end mid-frame. */
  close: number | 'waits';
  /** Data messages the server echoes before that. */
  echoes: number;
}

/**
 * Reads the client's bytes the way RFC 6455 says a server must, and stops at the first violation: header
 * violations are found when the header byte that carries them arrives, invalid UTF-8 in text at the first
 * byte that cannot continue a valid sequence (WHATWG decoder, streaming), even if the frame is incomplete.
 */
function expectedOutcome(bytes: Buffer, maxMessageSize: number): Outcome {
  let off = 0;
  let echoes = 0;
  let message: 'text' | 'binary' | undefined;
  let messageLength = 0;
  let text: InstanceType<typeof TextDecoder> | undefined;
  const waits = (): Outcome => ({ close: 'waits', echoes });
  const fails = (close: number): Outcome => ({ close, echoes });
  for (;;) {
    if (bytes.length - off < 2) return waits();
    const b0 = bytes[off];
    const b1 = bytes[off + 1];
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const len7 = b1 & 0x7f;
    const control = opcode >= 8;
    // RSV bits without an extension, reserved opcodes, bad control frames, broken fragmentation, no mask: 1002.
    if ((b0 & 0x70) !== 0) return fails(1002);
    if (![0, 1, 2, 8, 9, 10].includes(opcode)) return fails(1002);
    if (control && (!fin || len7 > 125)) return fails(1002);
    if (opcode === 0 && message === undefined) return fails(1002);
    if ((opcode === 1 || opcode === 2) && message !== undefined) return fails(1002);
    if ((b1 & 0x80) === 0) return fails(1002);
    const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    if (bytes.length - off < 2 + extra) return waits();
    let length = len7;
    if (len7 === 126) length = bytes.readUInt16BE(off + 2);
    if (len7 === 127) {
      const declared = bytes.readBigUInt64BE(off + 2);
      if (declared >= 1n << 63n) return fails(1002);
      if (declared > BigInt(Number.MAX_SAFE_INTEGER)) return fails(1009);
      length = Number(declared);
    }
    if (!control && (opcode === 0 ? messageLength : 0) + length > maxMessageSize) return fails(1009);
    const start = off + 2 + extra + 4;
    if (bytes.length < start) return waits();
    const key = bytes.subarray(start - 4, start);
    const present = Math.min(length, bytes.length - start);
    const payload = Buffer.from(bytes.subarray(start, start + present));
    for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    if (opcode === 1) {
      message = 'text';
      messageLength = 0;
      text = new TextDecoder('utf-8', { fatal: true });
    } else if (opcode === 2) {
      message = 'binary';
      messageLength = 0;
    }
    if (!control && message === 'text') {
      try {
        text!.decode(payload, { stream: true });
        if (present === length && fin) text!.decode();
      } catch {
        return fails(1007);
      }
    }
    if (present < length) return waits();
    off = start + length;
    if (control) {
      if (opcode !== 8) continue; // ping (answered with a pong) or pong
      if (length === 0) return fails(1005);
      if (length === 1 || !isSendableCloseCode(payload.readUInt16BE(0))) return fails(1002);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(payload.subarray(2));
      } catch {
        return fails(1007);
      }
      return fails(payload.readUInt16BE(0));
    }
    messageLength += length;
    if (fin) {
      echoes++;
      message = undefined;
    }
  }
}

/** A connection's plan: its bytes, and whether random bytes are in them (they may leave the server waiting). */
interface Plan {
  bytes: Buffer;
  garbage: boolean;
  valid: boolean;
}

function plan(rand: () => number): Plan {
  const int = (n: number): number => Math.floor(rand() * n);
  const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const frame = (opcode: number, payload: Uint8Array, fin = true, rsv = 0): Buffer =>
    clientFrame({ opcode, payload, fin, rsv, key: randomBytes(4) });
  const frames: Buffer[] = [];
  let valid = true;
  let garbage = false;
  const count = 1 + int(8);
  for (let i = 0; i < count; i++) {
    const kind = int(14);
    const payload = randomBytes(int(300));
    switch (kind) {
      case 0:
      case 1:
      case 2:
        frames.push(frame(1, Buffer.from('text '.repeat(int(50)))));
        break;
      case 3:
      case 4:
        frames.push(frame(2, payload));
        break;
      case 5: // fragmented binary with a ping in between
        frames.push(frame(2, payload.subarray(0, 10), false));
        frames.push(frame(9, Buffer.from('p')));
        frames.push(frame(0, payload.subarray(10), true));
        break;
      case 6: // invalid UTF-8
        frames.push(frame(1, Buffer.from([0xc3, 0x28])));
        valid = false;
        break;
      case 7: // unmasked
        frames.push(clientFrame({ opcode: 2, payload: payload.subarray(0, 100), masked: false }));
        valid = false;
        break;
      case 8: // reserved opcode
        frames.push(frame(3 + int(5), payload));
        valid = false;
        break;
      case 9: // RSV bits without an extension
        frames.push(frame(2, payload, true, 1 + int(7)));
        valid = false;
        break;
      case 10: // continuation with nothing to continue
        frames.push(frame(0, payload, true));
        valid = false;
        break;
      case 11: // control frame too long or fragmented
        frames.push(rand() < 0.5 ? frame(9, Buffer.alloc(126)) : frame(9, Buffer.alloc(1), false));
        valid = false;
        break;
      case 12: // close frame with an invalid code
        frames.push(frame(8, Buffer.from([0x03, 0xed]))); // 1005
        valid = false;
        break;
      default: // garbage
        frames.push(randomBytes(1 + int(40)));
        valid = false;
        garbage = true;
    }
  }
  frames.push(frame(8, Buffer.from([0x03, 0xe8]))); // close 1000
  return { bytes: Buffer.concat(frames), garbage, valid };
}

async function fuzzOne(port: number, seed: number): Promise<void> {
  const rand = prng(seed);
  const { bytes, garbage, valid } = plan(rand);
  const expected = expectedOutcome(bytes, MAX_MESSAGE_SIZE);
  // The oracle must agree with what the plan was built to be.
  if (valid) assert.equal(expected.close, 1000, 'a valid plan ends with the client close');
  if (!garbage)
    assert.notEqual(expected.close, 'waits', 'only random bytes can declare a payload that never comes');
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
  if (expected.close === 'waits') {
    // Nothing is wrong yet: the server must wait for the declared payload, so the peer hangs up first.
    socket.end();
    assert.equal(await code, 1006, 'no close frame while a declared payload is still due');
  } else {
    assert.equal(await code, expected.close, 'close code of the first violation');
  }
  assert.equal(echoes, expected.echoes, 'messages echoed before it');
  socket.destroy();
}

describe('server-level fuzz', () => {
  it('random frames on many connections: each closes with the code of its first violation, the good client keeps echoing', async () => {
    const server = await echoServer({ maxMessageSize: MAX_MESSAGE_SIZE });
    const good = await goodClient(server.port);
    const base = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const rounds = 5;
    const parallel = 40;
    for (let round = 0; round < rounds; round++) {
      const seeds = Array.from({ length: parallel }, (_, i) => base + round * parallel + i);
      await Promise.all(
        seeds.map(seed =>
          fuzzOne(server.port, seed).catch((error: Error) => {
            // FUZZ_SEED=<seed> replays this connection's bytes first, exactly.
            error.message = `FUZZ_SEED=${seed}: ${error.message}`;
            console.error(`fuzz: connection with seed ${seed} failed; rerun with FUZZ_SEED=${seed}`);
            throw error;
          })
        )
      );
      await good.check();
    }
    const stats = server.plugin.getStats();
    assert.ok(stats.protocolErrors > 0, 'the fuzz produced protocol errors');
    await until(() => server.plugin.getStats().connections === 1);
    await good.close();
    await server.app.close();
  });
});
