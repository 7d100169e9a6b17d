// Spec example "Monitoring & Health Checks": /ws/health (JSON) and /ws/metrics (Prometheus text).
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/ws' });
wsPlugin.install(app);

// A route to reach: joins a room and echoes messages.
app.ws('/ws', socket => {
  socket.join('lobby');
  socket.onMessage(data => {
    socket.send(data);
  });
});

// Health check endpoint
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

// Metrics endpoint for monitoring tools
app.get('/ws/metrics', ctx => {
  const stats = wsPlugin.getStats();

  // Prometheus-style metrics
  const metrics = [
    `websocket_connections_active ${stats.connections}`,
    `websocket_rooms_total ${stats.rooms}`,
    `websocket_messages_sent_total ${stats.messagesSent}`,
    `websocket_messages_received_total ${stats.messagesReceived}`,
  ].join('\n');

  ctx.res.setHeader('Content-Type', 'text/plain');
  ctx.res.end(metrics);
});

app.listen(PORT);
