// Section 2, ping/pong: pings answered with identical pongs, unsolicited pongs ignored, oversized pings rejected.
import { Op } from './client.js';
import {
  bytes,
  expectClose,
  expectEcho,
  expectPong,
  ping,
  pong,
  runSection,
  send,
  sendChunked,
  text,
  type Case,
} from './driver.js';

const cases: Case[] = [];
let n = 0;
// RFC 6455 section 5.5.2: "a Pong frame sent in response to a Ping frame must have identical
// Application data"; section 5.5: control frames carry at most 125 bytes.
for (const len of [0, 1, 2, 16, 64, 124, 125]) {
  cases.push({
    id: `2.1.${++n}`,
    title: `ping with ${len}-byte text payload -> pong with the same payload`,
    steps: [send(ping('p'.repeat(len))), expectPong('p'.repeat(len))],
  });
  cases.push({
    id: `2.1.${++n}`,
    title: `ping with ${len}-byte binary payload -> pong with the same payload`,
    steps: [send(ping(bytes(len, 99))), expectPong(bytes(len, 99))],
  });
}
cases.push({
  id: `2.1.${++n}`,
  title: 'ping with 125-byte payload byte by byte -> pong',
  steps: [sendChunked('bytewise', ping(bytes(125))), expectPong(bytes(125))],
});

n = 0;
// RFC 6455 section 5.5.3: "A response to an unsolicited Pong frame is not expected."
cases.push(
  {
    id: `2.2.${++n}`,
    title: 'unsolicited empty pong -> ignored (next text still echoed)',
    steps: [send(pong(), text('alive')), expectEcho(Op.Text, 'alive')],
  },
  {
    id: `2.2.${++n}`,
    title: 'unsolicited 125-byte binary pong -> ignored (next text still echoed)',
    steps: [send(pong(bytes(125)), text('alive')), expectEcho(Op.Text, 'alive')],
  },
  {
    id: `2.2.${++n}`,
    title: 'unsolicited pong, then ping -> only the pong for the ping',
    steps: [send(pong('unasked'), ping('asked')), expectPong('asked')],
  }
);

n = 0;
const tenPings = Array.from({ length: 10 }, (_, i) => `ping #${i}`);
cases.push(
  {
    id: `2.3.${++n}`,
    title: '10 pings in one write -> 10 pongs in order',
    steps: [send(...tenPings.map(p => ping(p))), ...tenPings.map(p => expectPong(p))],
  },
  {
    id: `2.3.${++n}`,
    title: '10 pings byte by byte -> 10 pongs in order',
    steps: [sendChunked('bytewise', ...tenPings.map(p => ping(p))), ...tenPings.map(p => expectPong(p))],
  },
  {
    id: `2.3.${++n}`,
    title: 'ping between two texts in one write -> echo, pong, echo in order',
    steps: [
      send(text('before'), ping('middle'), text('after')),
      expectEcho(Op.Text, 'before'),
      expectPong('middle'),
      expectEcho(Op.Text, 'after'),
    ],
  }
);

n = 0;
cases.push(
  {
    id: `2.4.${++n}`,
    title: 'ping with 126-byte payload -> close 1002',
    steps: [send(ping(bytes(126))), expectClose(1002)],
  },
  {
    id: `2.4.${++n}`,
    title: 'ping with 65536-byte payload -> close 1002',
    steps: [send(ping(bytes(65536))), expectClose(1002)],
  },
  {
    id: `2.4.${++n}`,
    title: 'pong with 126-byte payload -> close 1002',
    steps: [send(pong(bytes(126))), expectClose(1002)],
  },
  {
    // Section 5.5 limits control payloads to 125 bytes and section 5.2 demands the minimal length form,
    // so the only legal length field of a control frame is the 7-bit one.
    id: `2.4.${++n}`,
    title: 'ping of 5 bytes with a 16-bit length field -> close 1002',
    steps: [send(ping('hello', { lengthForm: 16 })), expectClose(1002)],
  },
  {
    id: `2.4.${++n}`,
    title: 'valid ping answered, then a 126-byte ping -> pong, close 1002',
    steps: [send(ping('ok'), ping(bytes(126))), expectPong('ok'), expectClose(1002)],
  }
);

runSection('RFC 6455 conformance, section 2: ping/pong', cases);
