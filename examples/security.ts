// Spec example "Security Best Practices": allowed origins, verifyClient, connection and size limits.
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();

const wsPlugin = new WebSocketPlugin({
  path: '/ws',
  // Restrict origins in production
  allowOrigins: ['https://yourdomain.com', /^https:\/\/.*\.yourdomain\.com$/],
  // Custom client verification
  verifyClient: async req => {
    // Implement your security checks
    const origin = req.headers.origin;
    const userAgent = req.headers['user-agent'];

    // Block suspicious requests
    if (!origin || !userAgent) return false;

    return true;
  },
  maxConnections: 1000,
  maxMessageSize: 64 * 1024, // 64KB limit
});

wsPlugin.install(app);

// A route to reach: echoes messages.
app.ws('/ws', socket => {
  socket.onMessage(data => {
    socket.send(data);
  });
});

app.listen(PORT);
