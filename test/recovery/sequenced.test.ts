// Unit tests of the pure parts of recovery over Redis: the sequenced envelope and the read script's reply.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode, decodeSequenced, encode, Kind } from '../../src/ws/adapters/envelope.js';
import { parseRead } from '../../src/ws/adapters/redis-history.js';

void describe('sequenced room messages', () => {
  void it('decodes what the append script publishes: head, kind, "epoch offset\\n", then the bytes', () => {
    const head = encode(Kind.Sequenced, 'node-1', 'room\nwith newline', '');
    const data = Buffer.from([0x0a, 0x00, 0xff]);
    const env = decode(Buffer.concat([head, Buffer.from('2ab-_C 42\n'), data]));
    assert.equal(env?.kind, Kind.Sequenced);
    assert.equal(env?.room, 'room\nwith newline');
    assert.deepEqual(decodeSequenced(env.payload), { epoch: 'ab-_C', offset: 42, text: false, data });
    assert.deepEqual(decodeSequenced(Buffer.from('1e 1\nhi'))?.text, true);
  });

  void it('rejects malformed positions instead of delivering them', () => {
    for (const bad of ['3e 1\nx', '1e x\nx', '1e 0\nx', '1e -1\nx', '1 1\nx', '1e1\nx', '1e 1', '1e\n 1']) {
      assert.equal(decodeSequenced(Buffer.from(bad)), undefined, bad);
    }
  });

  void it('parses the read reply with Buffer or string bulks, and refuses an odd shape', () => {
    const reply = [
      Buffer.from('ep'),
      3,
      1700,
      2,
      Buffer.from('1'),
      1600,
      Buffer.from('two'),
      3,
      '2',
      1650,
      'x',
    ];
    assert.deepEqual(parseRead(reply), {
      epoch: 'ep',
      top: 3,
      now: 1700,
      entries: [
        { offset: 2, text: true, at: 1600, data: Buffer.from('two') },
        { offset: 3, text: false, at: 1650, data: Buffer.from('x') },
      ],
    });
    assert.throws(() => parseRead(['ep', 3]), /unexpected reply/);
    assert.throws(() => parseRead([...reply, 9]), /unexpected reply/);
  });
});
