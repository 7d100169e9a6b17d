// Starts a throw-away redis-server on a free loopback port for a test file, and stops or restarts it.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL: Redis "goes away" without a goodbye) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/**
 * Whether redis-server can run here. Without it the tests fail on CI (CI=true) and are skipped
 * locally with a loud message, never silently.
 */
export function redisAvailable(): boolean {
  const res = spawnSync(BINARY, ['--version'], { stdio: 'ignore' });
  if (res.status === 0) return true;
  const msg = `\n!!!!!!!! ${BINARY} not found: Redis scale-out tests cannot run. Install redis-server. !!!!!!!!\n`;
  if (process.env.CI === 'true') throw new Error(msg);
  console.error(msg);
  return false;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

function ping(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', d => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    stderr = '';
    child = spawn(
      BINARY,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      }
    );
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = Date.now();
    while (!(await ping(port))) {
      if (child.exitCode !== null || Date.now() - started > 10_000) {
        throw new Error(`redis-server did not start on port ${port}: ${stderr}`);
      }
      await new Promise(r => setTimeout(r, 20));
    }
  };

  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill('SIGKILL');
    await exited;
  };

  await launch();
  // Safety net: a crashed test must not leave redis-server behind.
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: launch,
    stop: async () => {
      process.off('exit', onExit);
      await kill();
    },
  };
}
