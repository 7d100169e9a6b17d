// Spec example "Real-time Data Streaming": /stream/data sends a data point every second.
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/stream/data' });
wsPlugin.install(app);

/** Connection count the data points report. */
const stats = { activeConnections: 0 };
app.wsUse((_socket, _req, next) => {
  stats.activeConnections = wsPlugin.getStats().connections;
  next();
});

// Live data streaming example
app.ws('/stream/data', socket => {
  const streamId = `stream_${Date.now()}_${Math.random().toString(36).substr(2, 9)}`;

  socket.send(
    JSON.stringify({
      type: 'stream-started',
      streamId,
      message: 'Data stream initiated',
    })
  );

  // Send data every second
  const interval = setInterval(() => {
    const data = {
      type: 'data-point',
      streamId,
      timestamp: new Date().toISOString(),
      value: Math.random() * 100,
      metrics: {
        cpu: Math.random() * 100,
        memory: Math.random() * 100,
        connections: stats.activeConnections,
      },
    };

    socket.send(JSON.stringify(data));
  }, 1000);

  // Cleanup on disconnect
  socket.onClose(() => {
    clearInterval(interval);
    console.log(`Data stream ${streamId} ended`);
  });
});

app.listen(PORT);
