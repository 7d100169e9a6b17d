// Section 4, reserved opcodes: non-control 3-7 and control 11-15 fail the connection with 1002.
import { Op } from './client.js';
import { bytes, expectClose, expectEcho, frame, ping, runSection, send, text, type Case } from './driver.js';

// RFC 6455 section 5.2: opcodes %x3-7 and %xB-F are reserved; section 10.7 and 7.4.1 make an unknown
// opcode a protocol error (1002).
const cases: Case[] = [];
for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
  const g = `4.${opcode <= 7 ? 1 : 2}`;
  cases.push(
    {
      id: `${g}.${opcode}a`,
      title: `opcode ${opcode}, empty -> close 1002`,
      steps: [send(frame(opcode)), expectClose(1002)],
    },
    {
      id: `${g}.${opcode}b`,
      title: `opcode ${opcode} with payload after a valid echo -> echo, close 1002`,
      steps: [send(text('fine'), frame(opcode, bytes(20))), expectEcho(Op.Text, 'fine'), expectClose(1002)],
    },
    {
      id: `${g}.${opcode}c`,
      title: `opcode ${opcode} followed by a ping in the same write -> close 1002, no pong`,
      steps: [send(frame(opcode, 'x'), ping('never')), expectClose(1002)],
    }
  );
}

runSection('RFC 6455 conformance, section 4: reserved opcodes', cases);
