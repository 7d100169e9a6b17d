// Spec example "Quick Start": an echo server on /ws with a welcome message.
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

// Create application
const app = createApp();

// Install WebSocket plugin
const wsPlugin = new WebSocketPlugin({
  path: '/ws',
  heartbeatMs: 30000,
  maxConnections: 1000,
});
wsPlugin.install(app);

// Define WebSocket handler
app.ws('/ws', socket => {
  // Send welcome message
  socket.send('Welcome to NextRush v2 WebSocket!');

  // Handle incoming messages
  socket.onMessage(data => {
    console.log('Received:', data);
    socket.send(`Echo: ${data}`);
  });

  // Handle connection close
  socket.onClose((code, reason) => {
    console.log(`Connection closed: ${code} - ${reason}`);
  });
});

// Start server
app.listen(PORT, () => {
  console.log(`🚀 WebSocket server running on ws://localhost:${PORT}/ws`);
});
