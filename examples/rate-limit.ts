// The spec's "Rate limiting middleware" in one line (wsRateLimit), and rateLimit for HTTP routes.
import { createApp, rateLimit, WebSocketPlugin, wsRateLimit } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/ws' });
wsPlugin.install(app);

// 5 connections per client address per minute; the sixth is closed with 1008 "Rate limit exceeded".
app.wsUse(wsRateLimit({ upgradesPerMinute: 5 }));

app.ws('/ws', socket => {
  socket.onMessage(data => {
    socket.send(data);
  });
});

// HTTP: 30 requests per client per minute on this route, then 429 with Retry-After.
app.get('/hello', rateLimit({ requestsPerMinute: 30 }), ctx => {
  ctx.res.json({ hello: 'world' });
});

app.listen(PORT);
