// Recovery over Redis in one process: the streams are capped by maxMessages and windowMs, binary survives.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { RedisAdapter } from '../../src/index.js';
import { connectPair, type ClientPair, type Library } from '../scale/helpers/clients.js';
import { redisAvailable, startRedis, type RedisServer } from '../scale/helpers/redis-server.js';
import { until } from '../support/until.js';
import { startsApps, type Running } from '../ws/helpers.js';

const available = redisAvailable();
const start = startsApps();
const WINDOW_MS = 1500;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A raw nextrush.v1 client: every frame as [header, body]; resumes from `resume` if given. */
async function rawClient(port: number, room: string, resume?: [string, number]) {
  const q = resume ? `&nextrush-resume=${encodeURIComponent(JSON.stringify({ [room]: resume }))}` : '';
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?rooms=${room}${q}`, ['nextrush.v1']);
  const frames: { header: Record<string, unknown> | undefined; body: Buffer; binary: boolean }[] = [];
  ws.on('message', (d: Buffer, binary: boolean) => {
    const nl = d.indexOf(0x0a);
    const head = d.toString('utf8', 0, nl);
    const header = head === '' ? undefined : (JSON.parse(head) as Record<string, unknown>);
    frames.push({ header, body: d.subarray(nl + 1), binary });
  });
  await once(ws, 'open');
  /** Resolves with the first notice (join, recovered, unrecoverable) for the room. */
  const notice = async () => {
    await until(() => frames.some(f => f.header !== undefined && f.header.t !== 'm'));
    return frames.find(f => f.header !== undefined && f.header.t !== 'm')!.header!;
  };
  return { ws, frames, notice };
}

for (const lib of ['node-redis', 'ioredis'] as Library[]) {
  void describe(`recovery history in Redis is bounded (${lib})`, { skip: !available }, () => {
    let redis: RedisServer;
    let pair: ClientPair;
    let inspect: ClientPair;
    let srv: Running;
    const prefix = `lim-${lib}`;
    /** One command on an inspection connection (not the adapter's). */
    const cmd = (...args: string[]): Promise<unknown> => {
      const c = inspect.pub as unknown as {
        sendCommand?: (a: string[]) => Promise<unknown>;
        call?: (...a: string[]) => Promise<unknown>;
      };
      return lib === 'ioredis' ? c.call!(...args) : c.sendCommand!(args);
    };

    before(async () => {
      redis = await startRedis();
      [pair, inspect] = await Promise.all([connectPair(lib, redis.port), connectPair(lib, redis.port)]);
      // The inspection clients have no adapter listening: Redis' restart below must not crash the file.
      for (const c of [inspect.pub, inspect.sub]) c.on('error', () => {});
      const adapter = new RedisAdapter({ pub: pair.pub, sub: pair.sub, prefix });
      srv = await start({ path: '/ws', adapter, recovery: { windowMs: WINDOW_MS, maxMessages: 50 } }, app =>
        app.ws('/ws', socket => socket.join(new URL(socket.url, 'http://x').searchParams.get('rooms')!))
      );
    });

    after(async () => {
      await srv?.app.close();
      await pair?.close();
      await inspect?.close();
      await redis?.stop();
    });

    void it('keeps maxMessages per room; a client that missed more is told window, one that missed fewer gets them', async () => {
      const first = await rawClient(srv.port, 'L');
      const join = await first.notice();
      assert.equal(join.t, 'join');
      const epoch = join.e as string;
      first.ws.close();
      await until(() => srv.plugin.rooms.size('L') === 0);
      for (let i = 1; i <= 120; i++) srv.plugin.broadcast(`m${i}`, 'L');
      const reused = Buffer.from([0x0a, 0x00, 0xff]);
      srv.plugin.broadcast(reused, 'L'); // offset 121, binary with a newline
      reused.fill(0x41); // the caller may reuse its buffer once broadcast() returns
      await until(() => srv.plugin.getStats().adapter.published === 121);
      assert.equal(Number(await cmd('XLEN', `${prefix}:s:L`)), 50);
      assert.equal(String(await cmd('HGET', `${prefix}:h:L`, 'o')), '121');

      const late = await rawClient(srv.port, 'L', [epoch, 60]); // missed 61: more than maxMessages
      assert.deepEqual(await late.notice(), {
        t: 'unrecoverable',
        r: 'L',
        e: epoch,
        o: 121,
        reason: 'window',
      });
      late.ws.close();

      const back = await rawClient(srv.port, 'L', [epoch, 90]); // missed 31
      assert.deepEqual(await back.notice(), { t: 'recovered', r: 'L', e: epoch, o: 121, n: 31 });
      const replayed = back.frames.filter(f => f.header?.t === 'm');
      assert.deepEqual(
        replayed.map(f => f.header!.o),
        Array.from({ length: 31 }, (_, i) => 91 + i)
      );
      assert.deepEqual(
        replayed.slice(0, 30).map(f => f.body.toString()),
        Array.from({ length: 30 }, (_, i) => `m${91 + i}`)
      );
      const bin = replayed[30];
      assert.equal(bin.binary, true);
      assert.deepEqual([...bin.body], [0x0a, 0x00, 0xff]);
      back.ws.close();

      const other = await rawClient(srv.port, 'L', ['not-the-epoch', 120]);
      assert.equal((await other.notice()).reason, 'epoch');
      other.ws.close();
      const stats = srv.plugin.getStats().recovery!;
      assert.equal(stats.store, 'redis');
      assert.equal(stats.replayed, 31);
    });

    void it('a room first joined while Redis is down is followed once Redis is back, from its new top', async () => {
      await redis.kill();
      await until(() => !srv.plugin.getStats().adapter.connected, { label: 'outage seen' });
      const v1 = await rawClient(srv.port, 'O');
      const join = await v1.notice();
      assert.deepEqual(join, { t: 'join', r: 'O', e: '', o: 0 }, 'position unknown while Redis is away');
      srv.plugin.broadcast('during', 'O'); // not recorded: delivered here as a room-less message
      await until(() => v1.frames.some(f => f.body.toString() === 'during'));
      await redis.restart();
      await until(() => v1.frames.some(f => f.header?.t === 'unrecoverable' && f.header.reason === 'epoch'), {
        label: 'the new epoch is announced',
        timeoutMs: 20_000,
      });
      for (let i = 0; i < 3; i++) srv.plugin.broadcast(`after${i}`, 'O');
      await until(() => v1.frames.filter(f => f.header?.t === 'm').length === 3);
      const epoch = v1.frames.find(f => f.header?.reason === 'epoch')!.header!;
      assert.deepEqual(
        v1.frames.filter(f => f.header?.t === 'm').map(f => [f.header!.e, f.header!.o, f.body.toString()]),
        [0, 1, 2].map(i => [epoch.e, (epoch.o as number) + 1 + i, `after${i}`])
      );
      const during = v1.frames.find(f => f.body.toString() === 'during')!;
      assert.equal(during.header, undefined);
      assert.equal(srv.plugin.getStats().recovery!.unrecorded, 1);
      v1.ws.close();
    });

    void it('trims entries older than windowMs and lets an idle stream expire', async () => {
      const published = srv.plugin.getStats().adapter.published;
      for (let i = 0; i < 10; i++) srv.plugin.broadcast(`old${i}`, 'W');
      await sleep(WINDOW_MS / 2 + 100);
      for (let i = 0; i < 10; i++) srv.plugin.broadcast(`mid${i}`, 'W');
      await sleep(WINDOW_MS / 2 + 100);
      srv.plugin.broadcast('new', 'W'); // the `old` ones are past the window now: trimmed by this append
      await until(() => srv.plugin.getStats().adapter.published === published + 21);
      assert.equal(Number(await cmd('XLEN', `${prefix}:s:W`)), 11);
      const ttl = Number(await cmd('PTTL', `${prefix}:s:W`));
      assert.ok(ttl > 0 && ttl <= WINDOW_MS, `stream expires windowMs after its last append (${ttl})`);
      await sleep(WINDOW_MS + 100);
      assert.equal(Number(await cmd('EXISTS', `${prefix}:s:W`)), 0, 'idle stream gone');
      assert.equal(Number(await cmd('EXISTS', `${prefix}:h:W`)), 1, 'the epoch and offset stay');
    });
  });
}
