// Section 9, limits and throughput: big messages whole and in fragments echoed intact; over the limit -> 1009.
import { DEFAULT_MAX_MESSAGE_SIZE } from '../support/server-under-test.js';
import { clientFrame } from '../support/frames.js';
import { buildFragments, Op } from './client.js';
import {
  asciiBytes,
  bytes,
  expectClose,
  expectEcho,
  runSection,
  type Case,
  type SendStep,
} from './driver.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX = DEFAULT_MAX_MESSAGE_SIZE;

const payload = (opcode: number, size: number): Buffer =>
  opcode === Op.Text ? asciiBytes(size) : bytes(size, size + 1);
const sizeName = (n: number): string =>
  n >= MiB ? `${n / MiB} MiB` : n >= KiB ? `${n / KiB} KiB` : `${n} B`;
const kindName = (opcode: number): string => (opcode === Op.Text ? 'text' : 'binary');

/** Large sends go out in 64 KiB writes and stop as soon as the server's close frame has arrived. */
const stream = (bytes: Buffer): SendStep => ({ do: 'send', bytes, chunking: 64 * KiB, stopWhenClosed: true });

const cases: Case[] = [];
let n = 0;
for (const [opcode, size] of [
  [Op.Binary, 256 * KiB],
  [Op.Text, 1 * MiB],
  [Op.Binary, 4 * MiB],
  [Op.Text, 16 * MiB],
  [Op.Binary, 16 * MiB],
] as const) {
  cases.push({
    id: `9.1.${++n}`,
    title: `${kindName(opcode)} ${sizeName(size)} in one frame -> echo`,
    steps: () => {
      const p = payload(opcode, size);
      return [stream(clientFrame({ opcode, payload: p })), expectEcho(opcode, p)];
    },
  });
}

n = 0;
for (const [opcode, size, frag] of [
  [Op.Binary, 4 * MiB, 64],
  [Op.Text, 1 * MiB, 64],
  [Op.Binary, 4 * MiB, 256],
  [Op.Text, 4 * MiB, 4 * KiB],
  [Op.Binary, 4 * MiB, 64 * KiB],
  [Op.Binary, 16 * MiB, 64 * KiB],
  [Op.Text, 16 * MiB, 1 * MiB],
  [Op.Binary, 16 * MiB, 4 * MiB],
] as const) {
  cases.push({
    id: `9.2.${++n}`,
    title: `${kindName(opcode)} ${sizeName(size)} in ${size / frag} fragments of ${sizeName(frag)} -> echo`,
    steps: () => {
      const p = payload(opcode, size);
      return [stream(buildFragments(opcode, p, frag)), expectEcho(opcode, p)];
    },
  });
}

// The spec: messages over `maxMessageSize` (default 16 MB) are refused; RFC 6455 section 7.4.1: 1009
// "indicates that an endpoint is terminating the connection because it has received a message that is
// too big for it to process".
n = 0;
cases.push(
  {
    id: `9.3.${++n}`,
    title: `binary of ${sizeName(MAX)} + 1 byte in one frame (default limit) -> close 1009`,
    steps: () => [stream(clientFrame({ opcode: Op.Binary, payload: bytes(MAX + 1) })), expectClose(1009)],
  },
  {
    id: `9.3.${++n}`,
    title: `text of ${sizeName(MAX)} + 1 byte in 4 MiB fragments (default limit) -> close 1009`,
    steps: () => [stream(buildFragments(Op.Text, asciiBytes(MAX + 1), 4 * MiB)), expectClose(1009)],
  }
);

runSection(
  'RFC 6455 conformance, section 9: limits and throughput',
  cases.map(c => ({ ...c, timeoutMs: 30_000 })),
  {
    concurrency: 2,
  }
);

// A configured limit: exactly at the limit passes, one byte over fails, also when split in fragments.
const SMALL = 64 * KiB;
runSection(
  `RFC 6455 conformance, section 9: limits with maxMessageSize ${sizeName(SMALL)}`,
  [
    {
      id: '9.4.1',
      title: `binary of exactly ${sizeName(SMALL)} -> echo`,
      steps: [
        stream(clientFrame({ opcode: Op.Binary, payload: bytes(SMALL) })),
        expectEcho(Op.Binary, bytes(SMALL)),
      ],
    },
    {
      id: '9.4.2',
      title: `binary of ${sizeName(SMALL)} + 1 byte in one frame -> close 1009`,
      steps: [stream(clientFrame({ opcode: Op.Binary, payload: bytes(SMALL + 1) })), expectClose(1009)],
    },
    {
      id: '9.4.3',
      title: `text of ${sizeName(SMALL)} + 1 byte in fragments of 1000 bytes -> close 1009`,
      steps: [stream(buildFragments(Op.Text, asciiBytes(SMALL + 1), 1000)), expectClose(1009)],
    },
    {
      id: '9.4.4',
      title: `text of ${sizeName(SMALL)} in fragments of 1000 bytes -> echo`,
      steps: [
        stream(buildFragments(Op.Text, asciiBytes(SMALL), 1000)),
        expectEcho(Op.Text, asciiBytes(SMALL)),
      ],
    },
  ],
  { server: { maxMessageSize: SMALL } }
);
