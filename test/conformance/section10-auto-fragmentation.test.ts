// Section 10, client-chosen fragmentation: whatever fragment size the client picks, the message comes back whole.
import { buildFragments, Op } from './client.js';
import { bytes, expectEcho, runSection, sendChunked, type Case } from './driver.js';

// RFC 6455 section 5.4: "an intermediary might change the fragmentation of a message", so a receiver must
// reassemble any split. The text uses 3-byte characters so most fragment sizes cut through a character.
const TEXT = '€uro→ '.repeat(2048); // 2048 * 10 bytes = 20 KiB
const BIN = bytes(64 * 1024, 10);

const cases: Case[] = [];
let n = 0;
for (const size of [1, 2, 3, 7, 64, 100, 1000, 4096, 20479, 20480, 65535, 65536]) {
  cases.push({
    id: `10.1.${++n}`,
    title: `binary 64 KiB in fragments of ${size} bytes -> echo`,
    steps: () => [sendChunked(16 * 1024, buildFragments(Op.Binary, BIN, size)), expectEcho(Op.Binary, BIN)],
    timeoutMs: 15_000,
  });
  const textBytes = Buffer.from(TEXT);
  if (size <= textBytes.length) {
    cases.push({
      id: `10.1.${++n}`,
      title: `text 20 KiB of 3-byte characters in fragments of ${size} bytes -> echo`,
      steps: () => [
        sendChunked(16 * 1024, buildFragments(Op.Text, textBytes, size)),
        expectEcho(Op.Text, textBytes),
      ],
      timeoutMs: 15_000,
    });
  }
}

// Fragments written with the TCP writes deliberately misaligned to frame boundaries.
n = 0;
for (const write of [1, 5, 13, 1021]) {
  cases.push({
    id: `10.2.${++n}`,
    title: `text 20 KiB in 7-byte fragments, written in ${write}-byte writes -> echo`,
    steps: () => {
      const textBytes = Buffer.from(write === 1 ? TEXT.slice(0, 600) : TEXT);
      return [sendChunked(write, buildFragments(Op.Text, textBytes, 7)), expectEcho(Op.Text, textBytes)];
    },
    timeoutMs: 15_000,
  });
}

runSection('RFC 6455 conformance, section 10: client-chosen fragmentation', cases, { concurrency: 4 });
