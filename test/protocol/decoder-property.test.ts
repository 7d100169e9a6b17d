// Property tests of FrameDecoder: arbitrary bytes never throw, and valid frame sequences decode the same under any chunking.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Opcode } from '../../src/protocol/opcodes.js';
import { assertTerminalLast, decodeSplit, frame, type SinkEvent } from './helpers.js';

/** Sorted, distinct split points inside [1, n). */
function splitsArb(n: number): fc.Arbitrary<number[]> {
  if (n < 2) return fc.constant([]);
  return fc
    .uniqueArray(fc.integer({ min: 1, max: n - 1 }), { maxLength: Math.min(n - 1, 40) })
    .map(a => a.sort((x, y) => x - y));
}

type Message =
  | { kind: 'text'; value: string }
  | { kind: 'binary'; value: Uint8Array }
  | { kind: 'ping' | 'pong'; value: Uint8Array };

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), value: fc.string({ unit: 'binary', maxLength: 60 }) }),
  fc.record({ kind: fc.constant('binary' as const), value: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({
    kind: fc.constantFrom('ping' as const, 'pong' as const),
    value: fc.uint8Array({ maxLength: 125 }),
  })
);

const keyArb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const lengthFormArb = fc.constantFrom<7 | 16 | 64 | undefined>(undefined, undefined, 16, 64);

/** One message with how to fragment it, its masking keys and length encodings. */
const plannedArb = fc.record({
  message: messageArb,
  cuts: fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { maxLength: 4 }),
  keys: fc.array(keyArb, { minLength: 5, maxLength: 5 }),
  forms: fc.array(lengthFormArb, { minLength: 5, maxLength: 5 }),
  interleavedPing: fc.option(fc.uint8Array({ maxLength: 10 })),
});
type Planned = typeof plannedArb extends fc.Arbitrary<infer T> ? T : never;

/** Encodes planned messages as masked client frames and returns the bytes with the events they must produce. */
function encodePlan(plan: readonly Planned[]): { bytes: Buffer; expected: SinkEvent[] } {
  const frames: Buffer[] = [];
  const expected: SinkEvent[] = [];
  for (const { message, cuts, keys, forms, interleavedPing } of plan) {
    if (message.kind === 'ping' || message.kind === 'pong') {
      const opcode = message.kind === 'ping' ? Opcode.Ping : Opcode.Pong;
      frames.push(frame({ opcode, payload: message.value, key: keys[0] }));
      expected.push([message.kind, Buffer.from(message.value).toString('hex')]);
      continue;
    }
    const payload = message.kind === 'text' ? Buffer.from(message.value, 'utf8') : Buffer.from(message.value);
    // Fragment boundaries may fall anywhere, including inside a multi-byte character.
    const points = [...new Set(cuts.filter(c => c > 0 && c < payload.length))].sort((a, b) => a - b);
    const bounds = [0, ...points, payload.length];
    for (let f = 0; f + 1 < bounds.length; f++) {
      const opcode = f === 0 ? (message.kind === 'text' ? Opcode.Text : Opcode.Binary) : Opcode.Continuation;
      const fin = f + 2 === bounds.length;
      frames.push(
        frame({
          opcode,
          fin,
          payload: payload.subarray(bounds[f], bounds[f + 1]),
          key: keys[f],
          lengthForm: forms[f],
        })
      );
      if (f === 0 && !fin && interleavedPing !== null) {
        frames.push(frame({ opcode: Opcode.Ping, payload: interleavedPing, key: keys[4] }));
        expected.push(['ping', Buffer.from(interleavedPing).toString('hex')]);
      }
    }
    expected.push(
      message.kind === 'text'
        ? ['text', message.value]
        : ['binary', Buffer.from(message.value).toString('hex')]
    );
  }
  return { bytes: Buffer.concat(frames), expected };
}

describe('FrameDecoder properties', () => {
  it('never throws on arbitrary bytes and reports only messages followed by at most one error or close', () => {
    const input = fc
      .uint8Array({ minLength: 1, maxLength: 400 })
      .chain(bytes => fc.tuple(fc.constant(bytes), splitsArb(bytes.length), fc.boolean()));
    fc.assert(
      fc.property(input, ([bytes, splits, compression]) => {
        const { events } = decodeSplit(bytes, splits, { maxMessageSize: 1000, compression });
        assertTerminalLast(events);
        assert.ok(events.filter(e => e[0] === 'error').length <= 1);
        // The same bytes in one chunk report the same events.
        assert.deepEqual(decodeSplit(bytes, [], { maxMessageSize: 1000, compression }).events, events);
      }),
      { numRuns: 400 }
    );
  });

  it('never throws on arbitrary bytes behind a valid masked header (frames that get further into parsing)', () => {
    const input = fc
      .tuple(fc.nat(255), fc.nat(127), fc.uint8Array({ minLength: 4, maxLength: 200 }))
      .map(([b0, len7, rest]) => Buffer.concat([Buffer.from([b0, 0x80 | len7]), rest]))
      .chain(bytes => fc.tuple(fc.constant(bytes), splitsArb(bytes.length)));
    fc.assert(
      fc.property(input, ([bytes, splits]) => {
        const { events } = decodeSplit(bytes, splits, { maxMessageSize: 150 });
        assertTerminalLast(events);
        assert.deepEqual(decodeSplit(bytes, [], { maxMessageSize: 150 }).events, events);
      }),
      { numRuns: 400 }
    );
  });

  it('decodes valid masked frame sequences to the same messages whatever the chunking', () => {
    const input = fc
      .array(plannedArb, { minLength: 1, maxLength: 6 })
      .map(encodePlan)
      .chain(({ bytes, expected }) =>
        fc.tuple(fc.constant(bytes), fc.constant(expected), splitsArb(bytes.length))
      );
    fc.assert(
      fc.property(input, ([bytes, expected, splits]) => {
        assert.deepEqual(decodeSplit(bytes, splits).events, expected);
        assert.deepEqual(decodeSplit(bytes, []).events, expected);
      }),
      { numRuns: 300 }
    );
  });
});
