// Section 1, framing: text and binary frames of every length class, whole, in many writes and byte by byte.
import { Op } from './client.js';
import {
  ascii,
  binary,
  bytes,
  expectClose,
  expectEcho,
  runSection,
  send,
  sendChunked,
  text,
  type Case,
} from './driver.js';

// RFC 6455 section 5.2: 0-125 fit the 7-bit length, 126-65535 use the 16-bit form, more the 64-bit form.
const LENGTHS = [0, 1, 125, 126, 127, 128, 65535, 65536, 65537, 1 << 20];

const cases: Case[] = [];
let n = 0;
for (const [group, opcode] of [
  [1, Op.Text],
  [2, Op.Binary],
] as const) {
  n = 0;
  const kind = opcode === Op.Text ? 'text' : 'binary';
  for (const len of LENGTHS) {
    const payload = opcode === Op.Text ? Buffer.from(ascii(len)) : bytes(len);
    const f = opcode === Op.Text ? text(payload) : binary(payload);
    cases.push({
      id: `1.${group}.${++n}`,
      title: `${kind} ${len} bytes in one write -> echo`,
      steps: [send(f), expectEcho(opcode, payload)],
    });
    cases.push({
      id: `1.${group}.${++n}`,
      title: `${kind} ${len} bytes in writes of 997 bytes -> echo`,
      steps: [sendChunked(997, f), expectEcho(opcode, payload)],
    });
    if (len <= 128) {
      cases.push({
        id: `1.${group}.${++n}`,
        title: `${kind} ${len} bytes byte by byte -> echo`,
        steps: [sendChunked('bytewise', f), expectEcho(opcode, payload)],
      });
    }
  }
}

const small = 'Hello, frames';
n = 0;
cases.push(
  {
    id: `1.3.${++n}`,
    title: 'three text frames in one write -> three echoes in order',
    steps: [
      send(text('one'), text('two'), text('three')),
      expectEcho(Op.Text, 'one'),
      expectEcho(Op.Text, 'two'),
      expectEcho(Op.Text, 'three'),
    ],
  },
  {
    id: `1.3.${++n}`,
    title: 'text, binary, text mixed in one write -> echoed with their types',
    steps: [
      send(text('a'), binary(bytes(300)), text('c')),
      expectEcho(Op.Text, 'a'),
      expectEcho(Op.Binary, bytes(300)),
      expectEcho(Op.Text, 'c'),
    ],
  },
  {
    id: `1.3.${++n}`,
    title: 'header split from payload across writes (2 + rest) -> echo',
    steps: [sendChunked(2, text(small)), expectEcho(Op.Text, small)],
  },
  {
    id: `1.3.${++n}`,
    title: 'two frames split across a write boundary inside the second header -> both echoed',
    steps: [
      sendChunked(small.length + 7, text(small), text(small)),
      expectEcho(Op.Text, small),
      expectEcho(Op.Text, small),
    ],
  }
);

// Non-minimal length encodings: RFC 6455 section 5.2 says the minimal form MUST be used by the sender,
// but gives the receiver no duty to reject; a lenient server echoes (see docs/conformance.md).
n = 0;
cases.push(
  {
    id: `1.4.${++n}`,
    title: '5-byte text with a 16-bit length field (non-minimal) -> echo',
    steps: [send(text('short', { lengthForm: 16 })), expectEcho(Op.Text, 'short')],
  },
  {
    id: `1.4.${++n}`,
    title: '5-byte binary with a 64-bit length field (non-minimal) -> echo',
    steps: [send(binary(bytes(5), { lengthForm: 64 })), expectEcho(Op.Binary, bytes(5))],
  },
  {
    id: `1.4.${++n}`,
    title: '300-byte text with a 64-bit length field (non-minimal) -> echo',
    steps: [send(text(ascii(300), { lengthForm: 64 })), expectEcho(Op.Text, ascii(300))],
  },
  {
    // RFC 6455 section 5.2: "the most significant bit MUST be 0" in the 64-bit length.
    id: `1.4.${++n}`,
    title: '64-bit length with the most significant bit set -> close 1002',
    tags: ['length-msb'],
    steps: [send(binary(bytes(8), { lengthForm: 64, declaredLength: 1n << 63n })), expectClose(1002)],
  },
  {
    // RFC 6455 section 5.1: "a server MUST close the connection upon receiving a frame that is not masked".
    id: `1.4.${++n}`,
    title: 'unmasked text frame -> close 1002',
    steps: [send(text('plain', { masked: false })), expectClose(1002)],
  },
  {
    id: `1.4.${++n}`,
    title: 'valid echo, then an unmasked binary frame -> echo, close 1002',
    steps: [
      send(text('ok'), binary(bytes(4), { masked: false })),
      expectEcho(Op.Text, 'ok'),
      expectClose(1002),
    ],
  }
);

runSection('RFC 6455 conformance, section 1: framing', cases);
