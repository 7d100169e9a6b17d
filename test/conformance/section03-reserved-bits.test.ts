// Section 3, reserved bits: RSV1-3 set without a negotiated extension fail the connection with 1002.
import { Op } from './client.js';
import {
  binary,
  closeFrame,
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

// RFC 6455 section 5.2: "If a nonzero value is received and none of the negotiated extensions defines
// the meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_."
const rsvName = (rsv: number): string =>
  [rsv & 4 ? 'RSV1' : '', rsv & 2 ? 'RSV2' : '', rsv & 1 ? 'RSV3' : ''].filter(Boolean).join('+');

const cases: Case[] = [];
let n = 0;
for (let rsv = 1; rsv <= 7; rsv++) {
  cases.push({
    id: `3.1.${++n}`,
    title: `text with ${rsvName(rsv)} -> close 1002`,
    steps: [send(text('reserved', { rsv })), expectClose(1002)],
  });
  cases.push({
    id: `3.1.${++n}`,
    title: `valid text echoed, then text with ${rsvName(rsv)} -> echo, close 1002`,
    steps: [send(text('fine'), text('reserved', { rsv })), expectEcho(Op.Text, 'fine'), expectClose(1002)],
  });
  cases.push({
    id: `3.1.${++n}`,
    title: `valid text echoed (separate write), then text with ${rsvName(rsv)} -> echo, close 1002`,
    steps: [
      send(text('fine')),
      expectEcho(Op.Text, 'fine'),
      send(text('reserved', { rsv })),
      expectClose(1002),
    ],
  });
}

n = 0;
for (const rsv of [4, 2, 1, 7]) {
  const r = rsvName(rsv);
  cases.push(
    {
      id: `3.2.${++n}`,
      title: `binary with ${r} -> close 1002`,
      steps: [send(binary(Buffer.from([1, 2, 3]), { rsv })), expectClose(1002)],
    },
    {
      id: `3.2.${++n}`,
      title: `ping with ${r} -> close 1002 (no pong)`,
      steps: [send(ping('p', { rsv })), expectClose(1002)],
    },
    {
      id: `3.2.${++n}`,
      title: `pong with ${r} -> close 1002`,
      steps: [send(pong('p', { rsv })), expectClose(1002)],
    },
    {
      id: `3.2.${++n}`,
      title: `close 1000 with ${r} -> close 1002`,
      steps: [send(closeFrame(1000, '', { rsv })), expectClose(1002)],
    },
    {
      id: `3.2.${++n}`,
      title: `valid ping answered, then binary with ${r} byte by byte -> pong, close 1002`,
      steps: [
        send(ping('ok')),
        expectPong('ok'),
        sendChunked('bytewise', binary(Buffer.from([9]), { rsv })),
        expectClose(1002),
      ],
    }
  );
}

runSection('RFC 6455 conformance, section 3: reserved bits', cases);
