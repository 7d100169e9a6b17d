// The interop scenarios, written once against ClientSession and registered for each real client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  SERVER_SUPPORTS_ROOMS,
  SERVER_UNDER_TEST,
  startServer,
  type ServerOptions,
  type ServerUnderTest,
} from '../support/server-under-test.js';
import { within, type ClientSession, type Message, type OpenSession } from './session.js';

interface Scenario {
  name: string;
  run(open: (path: string) => Promise<ClientSession>, server: ServerUnderTest, path: string): Promise<void>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

function textOf(n: number): string {
  return 'abcdefghijklmnopqrstuvwxyz €→'.repeat(Math.ceil(n / 31)).slice(0, n);
}

async function expectEcho(s: ClientSession, m: Message): Promise<void> {
  await s.send(m);
  const got = await within(s.next(), `echo of ${m.type} message`);
  assert.equal(got.type, m.type);
  if (m.type === 'binary') assert.ok(Buffer.compare(got.data as Buffer, m.data) === 0, 'binary echo differs');
  else assert.equal(got.data, m.data);
}

async function closeNormally(s: ClientSession): Promise<void> {
  await s.close(1000, 'done');
  const c = await within(s.closed(), 'close handshake');
  assert.equal(c.code, 1000);
}

const SCENARIOS: Scenario[] = [
  {
    name: 'declines permessage-deflate: no extension negotiated',
    run: async open => {
      const s = await open('/echo');
      assert.equal(s.extensions, '');
      await closeNormally(s);
    },
  },
  {
    name: 'echoes short text and binary',
    run: async open => {
      const s = await open('/echo');
      await expectEcho(s, { type: 'text', data: 'hello, interop κόσμε 😀' });
      await expectEcho(s, { type: 'binary', data: randomBytes(256) });
      await expectEcho(s, { type: 'text', data: '' });
      await closeNormally(s);
    },
  },
  {
    name: 'echoes 1 KiB text and binary',
    run: async open => {
      const s = await open('/echo');
      await expectEcho(s, { type: 'text', data: textOf(KiB) });
      await expectEcho(s, { type: 'binary', data: randomBytes(KiB) });
      await closeNormally(s);
    },
  },
  {
    name: 'echoes 1 MiB text and binary',
    run: async open => {
      const s = await open('/echo');
      await expectEcho(s, { type: 'text', data: textOf(MiB) });
      await expectEcho(s, { type: 'binary', data: randomBytes(MiB) });
      await closeNormally(s);
    },
  },
  {
    name: 'client closes with 4000 and a reason: the server sees both',
    run: async (open, server, path) => {
      const s = await open(path);
      await s.close(4000, 'client leaves: κόσμε');
      const seen = await within(server.peerClose(path), 'server-side close');
      assert.deepEqual(seen, { code: 4000, reason: 'client leaves: κόσμε' });
      const c = await within(s.closed(), 'client-side close');
      assert.equal(c.code, 4000);
    },
  },
  {
    name: 'server closes with 4001 and a reason: the client sees both',
    run: async (open, server, path) => {
      const s = await open(path);
      await s.send({ type: 'text', data: 'close:4001:server says bye' });
      const c = await within(s.closed(), 'client-side close');
      assert.deepEqual(c, { code: 4001, reason: 'server says bye' });
      const seen = await within(server.peerClose(path), 'server-side close');
      assert.equal(seen.code, 4001);
    },
  },
];

// Rooms exist only in nextrush-v2: members of a room receive a broadcast, non-members do not.
if (SERVER_SUPPORTS_ROOMS) {
  SCENARIOS.push({
    name: 'rooms: join and broadcast reach members only',
    run: async (open, _server, path) => {
      const a = await open(`${path}-a`);
      const b = await open(`${path}-b`);
      const outsider = await open(`${path}-c`);
      for (const s of [a, b]) {
        await s.send({ type: 'text', data: 'join:lobby' });
        assert.deepEqual(await within(s.next(), 'join ack'), { type: 'text', data: 'joined:lobby' });
      }
      await a.send({ type: 'text', data: 'broadcast:lobby:hi all' });
      for (const s of [a, b])
        assert.deepEqual(await within(s.next(), 'broadcast'), { type: 'text', data: 'hi all' });
      // The outsider still gets its own echo first: nothing from the room came in between.
      await expectEcho(outsider, { type: 'text', data: 'only me' });
      for (const s of [a, b, outsider]) await closeNormally(s);
    },
  });
}

let pathCounter = 0;

/**
 * Registers every scenario for one client. `setup` may return a skip reason (e.g. no Chromium locally);
 * `open` receives a full ws:// URL.
 */
export function registerInteropSuite(
  clientName: string,
  hooks: {
    setup?: (server: ServerUnderTest) => Promise<void>;
    open: (url: string) => Promise<ClientSession>;
    teardown?: () => Promise<void>;
    skipReason?: string;
  },
  serverOptions: ServerOptions = {}
): void {
  void describe(`interop: ${clientName} <-> ${SERVER_UNDER_TEST}`, () => {
    let server: ServerUnderTest;
    before(async () => {
      if (hooks.skipReason) return;
      server = await startServer(serverOptions);
      await hooks.setup?.(server);
    });
    after(async () => {
      if (hooks.skipReason) return;
      await hooks.teardown?.();
      await server.close();
    });
    for (const sc of SCENARIOS) {
      void it(sc.name, { skip: hooks.skipReason ?? false }, async () => {
        const path = `/cmd/${clientName.replace(/\W+/g, '-')}-${++pathCounter}`;
        const open: OpenSession = p => within(hooks.open(server.wsUrl(p)), `opening ${p}`);
        await sc.run(open, server, path);
      });
    }
  });
}
