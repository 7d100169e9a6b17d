// Section 5, fragmentation: legal fragment sequences reassembled, illegal ones failed with 1002.
import { Op } from './client.js';
import {
  binary,
  bytes,
  closeFrame,
  cont,
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
import { buildFragments } from './client.js';

const nf = { fin: false };
const cases: Case[] = [];
let n = 0;

// RFC 6455 section 5.4: a fragmented message is one frame with FIN clear and a text/binary opcode,
// then zero or more continuation frames with FIN clear, then a continuation frame with FIN set.
cases.push(
  {
    id: `5.1.${++n}`,
    title: 'text in 2 fragments -> one text message',
    steps: [send(text('frag', nf), cont('ment')), expectEcho(Op.Text, 'fragment')],
  },
  {
    id: `5.1.${++n}`,
    title: 'binary in 2 fragments -> one binary message',
    steps: [
      send(binary(bytes(10), nf), cont(bytes(10, 7))),
      expectEcho(Op.Binary, Buffer.concat([bytes(10), bytes(10, 7)])),
    ],
  },
  {
    id: `5.1.${++n}`,
    title: 'text in 3 fragments, each in its own write -> one text message',
    steps: [send(text('a', nf)), send(cont('b', nf)), send(cont('c')), expectEcho(Op.Text, 'abc')],
  },
  {
    id: `5.1.${++n}`,
    title: 'text in 2 fragments sent byte by byte -> one text message',
    steps: [sendChunked('bytewise', text('Hello, ', nf), cont('world')), expectEcho(Op.Text, 'Hello, world')],
  },
  {
    id: `5.1.${++n}`,
    title: 'empty first fragment, data in the last -> one text message',
    steps: [send(text('', nf), cont('data')), expectEcho(Op.Text, 'data')],
  },
  {
    id: `5.1.${++n}`,
    title: 'data in the first fragment, empty last -> one text message',
    steps: [send(text('data', nf), cont('')), expectEcho(Op.Text, 'data')],
  },
  {
    id: `5.1.${++n}`,
    title: 'all 3 fragments empty -> empty text message',
    steps: [send(text('', nf), cont('', nf), cont('')), expectEcho(Op.Text, '')],
  },
  {
    id: `5.1.${++n}`,
    title: 'binary message of 20 bytes in 1-byte fragments -> one binary message',
    steps: [send(buildFragments(Op.Binary, bytes(20), 1)), expectEcho(Op.Binary, bytes(20))],
  },
  {
    id: `5.1.${++n}`,
    title: 'text message of 20 bytes in 1-byte fragments, byte by byte -> one text message',
    steps: [
      sendChunked('bytewise', buildFragments(Op.Text, 'twenty bytes of text', 1)),
      expectEcho(Op.Text, 'twenty bytes of text'),
    ],
  },
  {
    id: `5.1.${++n}`,
    title: 'text message in 1000 fragments of 3 bytes -> one text message',
    steps: [send(buildFragments(Op.Text, 'abc'.repeat(1000), 3)), expectEcho(Op.Text, 'abc'.repeat(1000))],
  },
  {
    id: `5.1.${++n}`,
    title: 'two fragmented messages back to back -> two messages',
    steps: [
      send(text('one-', nf), cont('a'), binary(bytes(3), nf), cont(bytes(3, 5))),
      expectEcho(Op.Text, 'one-a'),
      expectEcho(Op.Binary, Buffer.concat([bytes(3), bytes(3, 5)])),
    ],
  }
);

// RFC 6455 section 5.4: "Control frames MAY be injected in the middle of a fragmented message."
n = 0;
cases.push(
  {
    id: `5.2.${++n}`,
    title: 'ping between text fragments (one write) -> pong, then the message',
    steps: [
      send(text('frag', nf), ping('mid'), cont('ment')),
      expectPong('mid'),
      expectEcho(Op.Text, 'fragment'),
    ],
  },
  {
    id: `5.2.${++n}`,
    title: 'ping between fragments, pong awaited before the last fragment is sent -> pong, then the message',
    steps: [
      send(text('frag', nf), ping('mid')),
      expectPong('mid'),
      send(cont('ment')),
      expectEcho(Op.Text, 'fragment'),
    ],
  },
  {
    id: `5.2.${++n}`,
    title: 'ping between fragments, all byte by byte -> pong, then the message',
    steps: [
      sendChunked('bytewise', text('frag', nf), ping('mid'), cont('ment')),
      expectPong('mid'),
      expectEcho(Op.Text, 'fragment'),
    ],
  },
  {
    id: `5.2.${++n}`,
    title: 'pong between binary fragments -> ignored, the message',
    steps: [
      send(binary(bytes(4), nf), pong('unasked'), cont(bytes(4, 3))),
      expectEcho(Op.Binary, Buffer.concat([bytes(4), bytes(4, 3)])),
    ],
  },
  {
    id: `5.2.${++n}`,
    title: 'ping and pong between each of 4 fragments -> 3 pongs in order, then the message',
    steps: [
      send(
        text('a', nf),
        ping('1'),
        pong('x'),
        cont('b', nf),
        ping('2'),
        pong('y'),
        cont('c', nf),
        ping('3'),
        cont('d')
      ),
      expectPong('1'),
      expectPong('2'),
      expectPong('3'),
      expectEcho(Op.Text, 'abcd'),
    ],
  },
  {
    // RFC 6455 section 5.5.1: a close may come inside a fragmented message; the close handshake wins.
    id: `5.2.${++n}`,
    title: 'close 1000 between fragments -> close 1000, the partial message is not echoed',
    steps: [send(text('partial', nf), closeFrame(1000), cont('never')), expectClose(1000)],
  }
);

// RFC 6455 section 5.4 / 5.5: every other sequence is a protocol error.
n = 0;
const illegal: [string, Buffer[]][] = [
  ['continuation (FIN set) with no message started', [cont('orphan')]],
  ['continuation (FIN clear) with no message started', [cont('orphan', nf)]],
  ['continuation after a complete text message', [text('done'), cont('orphan')]],
  ['text start, then a new text start', [text('a', nf), text('b')]],
  ['text start, then a new binary start', [text('a', nf), binary(bytes(2))]],
  ['binary start, then a new text start', [binary(bytes(2), nf), text('b')]],
  ['binary start, then a new binary start (FIN clear)', [binary(bytes(2), nf), binary(bytes(2), nf)]],
  // RFC 6455 section 5.5: "Control frames themselves MUST NOT be fragmented."
  ['ping with FIN clear', [ping('frag', nf)]],
  ['ping with FIN clear, then a continuation', [ping('fr', nf), cont('ag')]],
  ['pong with FIN clear', [pong('frag', nf)]],
  ['close with FIN clear', [closeFrame(1000, '', nf)]],
  ['ping with FIN clear inside a fragmented text', [text('a', nf), ping('p', nf), cont('b')]],
];
for (const [what, frames] of illegal) {
  const echoesFirst = what.startsWith('continuation after a complete');
  cases.push({
    id: `5.3.${++n}`,
    title: `${what} -> ${echoesFirst ? 'echo, ' : ''}close 1002`,
    steps: [send(...frames), ...(echoesFirst ? [expectEcho(Op.Text, 'done')] : []), expectClose(1002)],
  });
  cases.push({
    id: `5.3.${++n}`,
    title: `${what}, frame by frame after a valid echo -> echo, ${echoesFirst ? 'echo, ' : ''}close 1002`,
    steps: [
      send(text('fine')),
      expectEcho(Op.Text, 'fine'),
      ...frames.map(f => send(f)),
      ...(echoesFirst ? [expectEcho(Op.Text, 'done')] : []),
      expectClose(1002),
    ],
  });
}

runSection('RFC 6455 conformance, section 5: fragmentation', cases);
