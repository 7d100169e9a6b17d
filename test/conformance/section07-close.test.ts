// Section 7, closing: valid close codes echoed, invalid ones rejected with 1002, reasons checked, TCP closed last.
import { Op } from './client.js';
import {
  ascii,
  closeFrame,
  expectClose,
  expectEcho,
  frame,
  hex,
  ping,
  runSection,
  send,
  sendChunked,
  sendClose,
  text,
  type Case,
} from './driver.js';

const cases: Case[] = [];
let n = 0;

// RFC 6455 section 5.5.1: the endpoint answering a close "typically echos the status code it received".
// Section 7.4.1 and the IANA registry define 1000-1003 and 1007-1014; 3000-4999 are for libraries and
// applications (section 7.4.2). Every close expectation also checks that the close frame comes before
// TCP is closed, and that the server closes TCP after the handshake (section 7.1.1).
const VALID_CODES = [
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
];
for (const code of VALID_CODES) {
  cases.push({
    id: `7.1.${++n}`,
    title: `close ${code} -> close ${code} echoed`,
    steps: [sendClose(code), expectClose(code)],
  });
}

// Section 7.4.1: 1004-1006 and 1015 are reserved and "MUST NOT be set as a status code in a Close
// control frame"; 0-999 are unused; 1016-2999 are reserved for future RFCs; above 4999 is not defined.
n = 0;
for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
  cases.push({
    id: `7.2.${++n}`,
    title: `close with invalid code ${code} -> close 1002`,
    steps: [sendClose(code), expectClose(1002)],
  });
}

n = 0;
const reason123 = ascii(123);
const reasonUtf8 = 'bye: κόσμε 😀';
cases.push(
  {
    // Section 5.5.1: a close frame MAY have no body; the answer is then empty or 1000.
    id: `7.3.${++n}`,
    title: 'empty close -> empty close or close 1000',
    steps: [sendClose(), expectClose(['empty', 1000])],
  },
  {
    // Section 5.5.1: if there is a body, its first two bytes are the status code.
    id: `7.3.${++n}`,
    title: 'close with a 1-byte payload -> close 1002',
    steps: [send(frame(Op.Close, Buffer.from([0x03]))), expectClose(1002)],
  },
  {
    id: `7.3.${++n}`,
    title: 'close 1000 with a 123-byte reason (the maximum) -> close 1000 with the same reason',
    steps: [sendClose(1000, reason123), expectClose(1000, reason123)],
  },
  {
    id: `7.3.${++n}`,
    title: 'close 4000 with a multi-byte UTF-8 reason -> close 4000 with the same reason',
    steps: [sendClose(4000, reasonUtf8), expectClose(4000, reasonUtf8)],
  },
  {
    // Section 5.5.1: the reason "is not guaranteed to be human readable" but is UTF-8; section 8.1 -> 1007.
    id: `7.3.${++n}`,
    title: 'close 1000 with an invalid UTF-8 reason (surrogate) -> close 1007',
    steps: [sendClose(1000, hex('6f6b eda080')), expectClose(1007)],
  },
  {
    id: `7.3.${++n}`,
    title: 'close 1000 with a reason truncated inside a character -> close 1007',
    steps: [sendClose(1000, hex('6f6b e282')), expectClose(1007)],
  },
  {
    // 2 + 124 bytes = 126: over the 125-byte control frame limit (section 5.5).
    id: `7.3.${++n}`,
    title: 'close 1000 with a 124-byte reason (payload 126 bytes) -> close 1002',
    steps: [send(closeFrame(1000, ascii(124))), expectClose(1002)],
  },
  {
    id: `7.3.${++n}`,
    title: 'close 1000 with a reason, byte by byte -> close 1000 with the same reason',
    steps: [
      { ...sendChunked('bytewise', closeFrame(1000, 'slow')), sendsClose: true },
      expectClose(1000, 'slow'),
    ],
  }
);

// Section 5.5.1: after sending a close, an endpoint "MUST NOT send any more data frames"; after
// receiving one it discards what follows.
n = 0;
cases.push(
  {
    id: `7.4.${++n}`,
    title: 'text after close in the same write -> close 1000 only, no echo',
    steps: [{ ...send(closeFrame(1000), text('ignored')), sendsClose: true }, expectClose(1000)],
  },
  {
    id: `7.4.${++n}`,
    title: 'ping after close in the same write -> close 1000 only, no pong',
    steps: [{ ...send(closeFrame(1000), ping('ignored')), sendsClose: true }, expectClose(1000)],
  },
  {
    id: `7.4.${++n}`,
    title: 'close after close in the same write -> exactly one close 1000',
    steps: [{ ...send(closeFrame(1000), closeFrame(1001)), sendsClose: true }, expectClose(1000)],
  },
  {
    id: `7.4.${++n}`,
    title: 'echo, then close -> echo, close 1000',
    steps: [send(text('last words')), expectEcho(Op.Text, 'last words'), sendClose(1000), expectClose(1000)],
  },
  {
    id: `7.4.${++n}`,
    title: 'fragmented text left unfinished, then close 1001 -> close 1001, nothing echoed',
    steps: [send(text('unfinished', { fin: false })), sendClose(1001), expectClose(1001)],
  },
  {
    id: `7.4.${++n}`,
    title: 'text and close in one write -> echo, then close 1000',
    steps: [
      { ...send(text('then'), closeFrame(1000)), sendsClose: true },
      expectEcho(Op.Text, 'then'),
      expectClose(1000),
    ],
  }
);

runSection('RFC 6455 conformance, section 7: closing', cases);
