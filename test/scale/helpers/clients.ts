// Creates pub/sub client pairs with the two official Redis libraries, as a user of the adapter would.
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { RedisClientLike } from '../../../src/ws/adapters/redis.js';

export type Library = 'node-redis' | 'ioredis';

export interface ClientPair {
  pub: RedisClientLike;
  sub: RedisClientLike;
  close(): Promise<void>;
}

// Short reconnect delays so a restarted Redis is found again quickly during the outage tests.
const retry = (attempt: number) => Math.min(50 * (attempt + 1), 300);

export async function connectPair(lib: Library, port: number): Promise<ClientPair> {
  if (lib === 'node-redis') {
    const pub = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: retry } });
    const sub = pub.duplicate();
    // Until the adapter attaches its own listener, a connection error must not become an uncaught one.
    const early = () => {};
    pub.on('error', early);
    sub.on('error', early);
    await Promise.all([pub.connect(), sub.connect()]);
    pub.off('error', early);
    sub.off('error', early);
    return {
      pub,
      sub,
      close: async () => {
        pub.destroy();
        sub.destroy();
        await Promise.resolve();
      },
    };
  }
  const options = { host: '127.0.0.1', port, retryStrategy: retry };
  const pub = new Redis(options);
  const sub = new Redis(options);
  await Promise.all([once(pub, 'ready'), once(sub, 'ready')]);
  return {
    pub,
    sub,
    close: async () => {
      pub.disconnect();
      sub.disconnect();
      await Promise.resolve();
    },
  };
}
