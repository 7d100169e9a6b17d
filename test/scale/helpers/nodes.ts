// Spawns app nodes (test/scale/fixtures/ws-node) in child processes and connects `ws` clients to them.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import type { NodeCommand } from '../fixtures/ws-node.js';
import type { Library } from './clients.js';

const fixture = fileURLToPath(new URL('../fixtures/ws-node.js', import.meta.url));

export interface AppNode {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Sends a command and resolves with the node's answer to it. */
  call(cmd: NodeCommand): Promise<Record<string, unknown>>;
  broadcast(data: string | Buffer, room?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startNode(
  lib: Library,
  redisPort: number,
  name: string,
  prefix: string,
  /** Extra environment, e.g. RECOVERY (the plugin's recovery option as JSON). */
  env: Record<string, string> = {}
): Promise<AppNode> {
  const child = fork(fixture, [], {
    env: { ...process.env, LIB: lib, REDIS_PORT: String(redisPort), NAME: name, PREFIX: prefix, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (done: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m.done !== done) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null) =>
        reject(new Error(`node ${name} exited (${code}) before "${done}"`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const listening = await next('listening');
  const call = (cmd: NodeCommand) => {
    const answer = next(cmd.cmd);
    child.send(cmd);
    return answer;
  };
  return {
    name,
    port: listening.port as number,
    child,
    call,
    broadcast: async (data, room) => {
      const binary = typeof data !== 'string';
      const cmd: NodeCommand = { cmd: 'broadcast', binary, data: binary ? data.toString('base64') : data };
      if (room !== undefined) cmd.room = room;
      await call(cmd);
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Client {
  readonly ws: WebSocket;
  /** Every message as `t:<text>` or `b:<hex>`, in arrival order. */
  readonly got: string[];
  has(entry: string): boolean;
}

/** Connects, lets the node join `rooms`, and resolves once the node said "joined". */
export async function connectClient(port: number, rooms: string[]): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?rooms=${rooms.join(',')}`);
  const got: string[] = [];
  let joined!: () => void;
  const isJoined = new Promise<void>(resolve => (joined = resolve));
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary && data.toString() === 'joined') return joined();
    got.push(isBinary ? `b:${data.toString('hex')}` : `t:${data.toString()}`);
  });
  await isJoined;
  return { ws, got, has: entry => got.includes(entry) };
}
