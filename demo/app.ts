// The demo application: room chat over /chat/<room>, a live stats feed, static front end, monitoring endpoints.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createApp, WebSocketPlugin } from '../src/index.js';
import { prometheusText, RateSampler } from './metrics.js';
import { serveStatic } from './static.js';

/** Every page's socket joins this room, so one broadcast feeds every dashboard. */
export const DASHBOARD_ROOM = '__dashboard';
const ROOM_NAME = /^[\p{L}\p{N}_-]{1,32}$/u;
const MAX_MESSAGE_CHARS = 2000;

export interface DemoOptions {
  /** Where index.html, app.js and style.css live (default: demo/public next to this file's source). */
  publicDir?: string;
  /** Dashboard push interval in ms (default 1000). */
  statsIntervalMs?: number;
}

interface RoomInfo {
  users: number;
  messages: number;
}

/** Room and display name from `/chat/<room>?name=<name>`; anything unexpected falls back to a default. */
export function parseChatUrl(url: string): { room: string; name: string } {
  const parsed = new URL(url, 'http://localhost');
  const last = parsed.pathname.split('/').filter(Boolean).pop() ?? '';
  let room = 'general';
  try {
    const decoded = decodeURIComponent(last);
    if (ROOM_NAME.test(decoded) && !decoded.startsWith('__')) room = decoded;
  } catch {
    // malformed percent-encoding: keep the default room
  }
  const name = (parsed.searchParams.get('name') ?? '').trim().replace(/\s+/g, ' ').slice(0, 24) || 'guest';
  return { room, name };
}

function defaultPublicDir(): string {
  // Compiled to build/demo/app.js; the static files stay in the source tree (no front-end build step).
  const here = fileURLToPath(new URL('.', import.meta.url));
  return here.includes('/build/demo')
    ? fileURLToPath(new URL('../../demo/public/', import.meta.url))
    : fileURLToPath(new URL('./public/', import.meta.url));
}

export function createDemo(options: DemoOptions = {}) {
  const app = createApp();
  // recovery: pages using nextrush-v2/client get what their rooms missed while they were disconnected.
  const wsPlugin = new WebSocketPlugin({
    path: '/chat/*',
    heartbeatMs: 30000,
    maxConnections: 1000,
    // Abuse limits (docs/limits.md), generous for a chat: a peer past 20 messages a second (100 at once)
    // has its messages dropped; one address holds at most 50 connections and opens 300 a minute.
    messageRate: { messagesPerSecond: 20, burst: 5, policy: 'drop' },
    clientLimits: { maxConnections: 50, upgradesPerMinute: 300 },
    recovery: { windowMs: 120_000, maxMessages: 500 },
  });
  wsPlugin.install(app);

  const rooms = new Map<string, RoomInfo>();
  const sampler = new RateSampler(60);
  let nextId = 1;
  let totalConnections = 0;

  const roomList = () =>
    [...rooms]
      .filter(([, info]) => info.users > 0)
      .map(([name, info]) => ({ name, users: info.users }))
      .sort((a, b) => b.users - a.users || a.name.localeCompare(b.name));

  const takeSample = () => {
    const point = sampler.sample(wsPlugin.getStats(), roomList().length, Date.now());
    app.wsBroadcast(JSON.stringify({ type: 'stats', ...point, roomList: roomList() }), DASHBOARD_ROOM);
  };

  app.ws('/chat/*', socket => {
    const { room, name } = parseChatUrl(socket.url);
    const you = { id: `u${nextId++}`, name };
    totalConnections++;
    let info = rooms.get(room);
    if (!info) rooms.set(room, (info = { users: 0, messages: 0 }));
    const roomInfo = info;
    roomInfo.users++;

    // Announce before joining, so the newcomer gets a welcome rather than news about themselves.
    app.wsBroadcast(
      JSON.stringify({
        type: 'user-joined',
        room,
        message: `${name} joined #${room}`,
        activeUsers: roomInfo.users,
        user: you,
      }),
      room
    );
    socket.join(room);
    socket.join(DASHBOARD_ROOM);
    socket.send(
      JSON.stringify({
        type: 'welcome',
        room,
        message: `Welcome to #${room}, ${name}!`,
        stats: { activeUsers: roomInfo.users, totalMessages: roomInfo.messages },
        you,
        // What carries this socket: its own HTTP/1.1 connection, or a stream of the page's HTTP/2 connection.
        transport: socket.httpVersion === '2.0' ? 'HTTP/2' : 'HTTP/1.1',
        dashboard: sampler.history(),
      })
    );

    socket.onMessage(data => {
      const content = data.toString().trim().slice(0, MAX_MESSAGE_CHARS);
      if (!content) return;
      roomInfo.messages++;
      app.wsBroadcast(
        JSON.stringify({
          type: 'chat-message',
          room,
          content,
          from: you,
          timestamp: new Date().toISOString(),
          messageId: `msg_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 10)}`,
        }),
        room
      );
    });

    socket.onClose(() => {
      roomInfo.users--;
      if (roomInfo.users > 0) {
        app.wsBroadcast(
          JSON.stringify({
            type: 'user-left',
            room,
            message: `${name} left #${room}`,
            activeUsers: roomInfo.users,
            user: you,
          }),
          room
        );
      } else {
        rooms.delete(room);
      }
    });
  });

  // The spec's Quick Start endpoint, so its browser and Node client snippets work against `npm start`.
  app.ws('/ws', socket => {
    socket.send('Welcome to NextRush v2 WebSocket!');
    socket.onMessage(data => {
      socket.send(typeof data === 'string' ? `Echo: ${data}` : data);
    });
  });

  // The spec's troubleshooting step: `curl -s http://localhost:3000/health`.
  app.get('/health', ctx => {
    ctx.json({ status: 'ok', uptime: process.uptime() });
  });

  app.get('/stats', ctx => {
    const stats = wsPlugin.getStats();
    ctx.res.json({
      totalConnections,
      activeConnections: stats.connections,
      rooms: Object.fromEntries(rooms),
    });
  });

  app.get('/ws/health', ctx => {
    const stats = wsPlugin.getStats();
    ctx.res.json({
      status: 'healthy',
      websocket: {
        activeConnections: stats.connections,
        totalRooms: stats.rooms,
        uptime: process.uptime(),
        memoryUsage: process.memoryUsage(),
      },
    });
  });

  app.get('/ws/metrics', ctx => {
    ctx.res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    ctx.res.end(prometheusText(wsPlugin.getStats()));
  });

  // The browser imports the package's own client, compiled next to this file (build/src/client).
  const clientSource = readFileSync(new URL('../src/client/index.js', import.meta.url));
  app.get('/client.js', ctx => {
    ctx.res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    ctx.res.end(clientSource);
  });

  app.use(serveStatic(options.publicDir ?? defaultPublicDir()));

  const timer = setInterval(takeSample, options.statsIntervalMs ?? 1000);
  // The stats feed alone should never keep the process alive.
  timer.unref();
  app.onClose(() => clearInterval(timer));

  return { app, wsPlugin };
}
