// Section 6, UTF-8: valid text echoed however it is split; invalid text closed with 1007 at the first bad fragment.
import { Op } from './client.js';
import {
  cont,
  expectClose,
  expectEcho,
  hex,
  runSection,
  send,
  text,
  type Case,
  type Step,
} from './driver.js';

// RFC 6455 section 8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
// stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_";
// section 7.4.1 assigns 1007 to that. Validity follows RFC 3629 (no overlongs, no surrogates, <= U+10FFFF).

const VALID: [string, string][] = [
  ['ASCII with Latin-1 letters', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!').toString('hex')],
  ['Greek "kosme"', 'ceba e1bdb9 cf83 cebc ceb5'],
  ['U+0000', '00'],
  ['U+007F', '7f'],
  ['U+0080 (first 2-byte)', 'c280'],
  ['U+07FF (last 2-byte)', 'dfbf'],
  ['U+0800 (first 3-byte)', 'e0a080'],
  ['U+D7FF (last before surrogates)', 'ed9fbf'],
  ['U+E000 (first after surrogates)', 'ee8080'],
  ['U+FEFF (byte order mark)', 'efbbbf'],
  ['U+FFFD (replacement character)', 'efbfbd'],
  ['U+FFFE and U+FFFF (noncharacters are valid UTF-8)', 'efbfbe efbfbf'],
  ['U+FDD0 (noncharacter)', 'efb790'],
  ['U+10000 (first 4-byte)', 'f0908080'],
  ['U+1F600 (emoji)', 'f09f9880'],
  ['U+10FFFF (last code point)', 'f48fbfbf'],
];

/**
 * Invalid sequences. `failAt` is the index of the byte at which the text can no longer become valid
 * whatever follows ('end' when only the end of the message makes it invalid).
 */
const INVALID: { name: string; seq: string; failAt: number | 'end' }[] = [
  { name: 'lone continuation byte 0x80', seq: '80', failAt: 0 },
  { name: 'lone continuation byte 0xBF', seq: 'bf', failAt: 0 },
  { name: 'two continuation bytes', seq: '80bf', failAt: 0 },
  { name: '0xC0 0x80 (overlong U+0000)', seq: 'c080', failAt: 0 },
  { name: '0xC0 0xAF (overlong "/")', seq: 'c0af', failAt: 0 },
  { name: '0xC1 0xBF (overlong U+007F)', seq: 'c1bf', failAt: 0 },
  { name: 'E0 80 AF (overlong 3-byte "/")', seq: 'e080af', failAt: 1 },
  { name: 'E0 9F BF (overlong U+07FF)', seq: 'e09fbf', failAt: 1 },
  { name: 'F0 80 80 AF (overlong 4-byte "/")', seq: 'f08080af', failAt: 1 },
  { name: 'F0 8F BF BF (overlong U+FFFF)', seq: 'f08fbfbf', failAt: 1 },
  { name: 'ED A0 80 (U+D800, first surrogate)', seq: 'eda080', failAt: 1 },
  { name: 'ED AD BF (U+DB7F)', seq: 'edadbf', failAt: 1 },
  { name: 'ED B0 80 (U+DC00, low surrogate)', seq: 'edb080', failAt: 1 },
  { name: 'ED BF BF (U+DFFF, last surrogate)', seq: 'edbfbf', failAt: 1 },
  { name: 'surrogate pair U+D83D U+DE00 encoded as two 3-byte sequences', seq: 'eda0bd edb880', failAt: 1 },
  { name: 'F4 90 80 80 (U+110000, above U+10FFFF)', seq: 'f4908080', failAt: 1 },
  { name: 'F5 80 80 80 (lead byte 0xF5)', seq: 'f5808080', failAt: 0 },
  { name: 'F7 BF BF BF (U+1FFFFF)', seq: 'f7bfbfbf', failAt: 0 },
  { name: 'F8 88 80 80 80 (5-byte form)', seq: 'f888808080', failAt: 0 },
  { name: 'FC 84 80 80 80 80 (6-byte form)', seq: 'fc8480808080', failAt: 0 },
  { name: 'byte 0xFE', seq: 'fe', failAt: 0 },
  { name: 'byte 0xFF', seq: 'ff', failAt: 0 },
  { name: 'C2 followed by ASCII (truncated 2-byte)', seq: 'c241', failAt: 1 },
  { name: 'C2 C2 (lead byte where a continuation belongs)', seq: 'c2c2', failAt: 1 },
  { name: 'E2 82 followed by ASCII (truncated 3-byte)', seq: 'e28241', failAt: 2 },
  { name: 'F0 9F 98 followed by ASCII (truncated 4-byte)', seq: 'f09f9841', failAt: 3 },
  { name: 'message ends after C2', seq: 'c2', failAt: 'end' },
  { name: 'message ends after E2 82', seq: 'e282', failAt: 'end' },
  { name: 'message ends after F0 9F 98', seq: 'f09f98', failAt: 'end' },
];

const nf = { fin: false };
const PREFIX = hex('ceba e1bdb9 cf83 cebc ceb5'); // valid "kosme"
const cases: Case[] = [];

let n = 0;
for (const [name, h] of VALID) {
  const data = hex(h);
  cases.push({
    id: `6.1.${++n}`,
    title: `valid ${name} in one frame -> echo`,
    steps: [send(text(data)), expectEcho(Op.Text, data)],
  });
  const frags = [...data].map((b, i) =>
    i === 0
      ? text(Buffer.from([b]), { fin: data.length === 1 })
      : cont(Buffer.from([b]), { fin: i === data.length - 1 })
  );
  cases.push({
    id: `6.1.${++n}`,
    title: `valid ${name} in 1-byte fragments, one write each -> echo`,
    steps: [...frags.map(f => send(f)), expectEcho(Op.Text, data)],
  });
}

// Valid text split into two fragments at every byte position, including inside multi-byte characters.
n = 0;
const SPLIT = hex('41 c2b5 e282ac f09f9880 f48fbfbf 5a'); // "A", µ, €, U+1F600, U+10FFFF, "Z"
for (let p = 0; p <= SPLIT.length; p++) {
  cases.push({
    id: `6.2.${++n}`,
    title: `valid 2/3/4-byte text split into 2 fragments at byte ${p} -> echo`,
    steps: [send(text(SPLIT.subarray(0, p), nf)), send(cont(SPLIT.subarray(p))), expectEcho(Op.Text, SPLIT)],
  });
}

for (const [i, v] of INVALID.entries()) {
  const seq = hex(v.seq);
  const g = i + 1;
  const atEnd = v.failAt === 'end';
  // Whole message in one frame: invalid wherever it sits.
  const whole = Buffer.concat([PREFIX, seq, atEnd ? Buffer.alloc(0) : Buffer.from('!')]);
  cases.push({
    id: `6.3.${g}`,
    title: `${v.name} in one frame -> close 1007`,
    steps: [send(text(whole)), expectClose(1007)],
  });
  // Invalid part in the final fragment of a two-fragment message.
  cases.push({
    id: `6.4.${g}`,
    title: `${v.name} in the last of 2 fragments -> close 1007`,
    steps: [send(text(PREFIX, nf)), send(cont(whole.subarray(PREFIX.length))), expectClose(1007)],
  });

  // Fail fast: fragments go out one at a time; after the fragment holding the first byte that makes the
  // text invalid, the 1007 close must arrive before anything more is sent.
  const failIndex = atEnd ? whole.length - 1 : PREFIX.length + (v.failAt as number);
  const fastTags = failIndex < whole.length - 1 ? ['utf8-fail-fast'] : [];
  const byteSteps: Step[] = [];
  for (let b = 0; b <= failIndex; b++) {
    const fin = b === whole.length - 1;
    const payload = whole.subarray(b, b + 1);
    byteSteps.push(send(b === 0 ? text(payload, { fin }) : cont(payload, { fin })));
  }
  cases.push({
    id: `6.5.${g}`,
    title: `${v.name} in 1-byte fragments -> close 1007 right after byte ${failIndex}`,
    tags: fastTags,
    steps: [...byteSteps, expectClose(1007)],
  });
  if (atEnd) continue;
  // The first fragment ends with just the invalid prefix (e.g. F4 90): already invalid, must fail now.
  const upTo = whole.subarray(0, failIndex + 1);
  cases.push({
    id: `6.6.${g}`,
    title: `first fragment ends with the invalid prefix ${seq.subarray(0, (v.failAt as number) + 1).toString('hex')} -> close 1007 before the rest is sent`,
    tags: ['utf8-fail-fast'],
    steps: [send(text(upTo, nf)), expectClose(1007)],
  });
  // The same, in a continuation frame after a valid first fragment.
  cases.push({
    id: `6.7.${g}`,
    title: `valid first fragment, continuation ending with the invalid prefix -> close 1007 before the rest is sent`,
    tags: ['utf8-fail-fast'],
    steps: [send(text(PREFIX, nf)), send(cont(upTo.subarray(PREFIX.length), nf)), expectClose(1007)],
  });
  // Inside ONE frame (as Autobahn 6.4.3 / 6.4.4 do): the header declares the whole payload but only the
  // bytes up to the one that breaks the text are sent; the 1007 must come without the rest of the frame.
  const frame = text(whole);
  cases.push({
    id: `6.9.${g}`,
    title: `${v.name} inside one frame, its rest never sent -> close 1007`,
    tags: ['utf8-fail-fast'],
    steps: [send(frame.subarray(0, frame.length - whole.length + failIndex + 1)), expectClose(1007)],
  });
}

// Echo still works after many valid messages and before an invalid one on the same connection.
cases.push({
  id: '6.8.1',
  title: 'every valid vector on one connection, then an invalid one -> all echoed, close 1007',
  steps: [
    ...VALID.flatMap(([, h]) => [send(text(hex(h))), expectEcho(Op.Text, hex(h))]),
    send(text(hex('eda080'))),
    expectClose(1007),
  ],
});

// 24 at a time: enough to keep the section quick, few enough that handshakes do not queue past the
// 4 s safety net on a loaded machine.
runSection('RFC 6455 conformance, section 6: UTF-8', cases, { concurrency: 24 });
