// Spec example "Plugin Installation": every option set; no app.ws() route yet, so upgrades get 404.
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();

// Create and install WebSocket plugin
const wsPlugin = new WebSocketPlugin({
  path: ['/ws', '/chat/*'], // Multiple paths with wildcards
  heartbeatMs: 30000, // Ping every 30 seconds
  pongTimeoutMs: 60000, // Close if no pong in 60 seconds
  maxConnections: 500, // Limit concurrent connections
  maxMessageSize: 1024 * 1024, // 1MB message limit
  debug: true, // Enable debug logging
});

wsPlugin.install(app);

app.listen(PORT);
