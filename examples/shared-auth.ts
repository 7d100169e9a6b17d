// Shared auth: one app.use() middleware guards HTTP routes and WebSocket upgrades alike (wss:// with TLS_KEY/TLS_CERT).
import { readFileSync } from 'node:fs';
import { createApp, WebSocketPlugin, type Middleware } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
new WebSocketPlugin({ path: '/live' }).install(app);

/** Stand-in for a session store or a JWT check. */
const users = new Map([
  ['token-ada', 'ada'],
  ['token-bob', 'bob'],
]);

// One middleware for every request. Browsers cannot set headers on a WebSocket, so the token may also
// come in the query string. An upgrade it refuses gets a real 401 response and never a 101.
const auth: Middleware = async (ctx, next) => {
  const header = ctx.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : ctx.query.token;
  const user = typeof token === 'string' ? users.get(token) : undefined;
  if (user === undefined) ctx.throw(401, 'Sign in first');
  ctx.state.user = user;
  await next();
};
app.use(auth);

app.get('/me', ctx => ctx.json({ user: ctx.state.user }));

// The route handler gets the request's context: what the middleware found is at hand.
app.ws('/live', (socket, ctx) => {
  socket.send(`hello ${String(ctx.state.user)}`);
  socket.onMessage(data => socket.send(`${String(ctx.state.user)}: ${String(data)}`));
});

// With a key and certificate the same app serves https:// and wss://.
const tls =
  process.env.TLS_KEY && process.env.TLS_CERT
    ? { key: readFileSync(process.env.TLS_KEY), cert: readFileSync(process.env.TLS_CERT) }
    : undefined;
app.listen({ port: PORT, tls }, () => {
  console.log(`Listening on ${tls ? 'https' : 'http'}://localhost:${PORT} (WebSocket at /live)`);
});
