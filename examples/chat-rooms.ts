// Spec example "Room-Based Chat System": /chat/<room> joins a room; messages go to the room; /stats.
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/chat/*' });
wsPlugin.install(app);

// Connection statistics
const stats = {
  totalConnections: 0,
  activeConnections: 0,
  roomStats: new Map<string, { users: number; messages: number }>(),
};

// WebSocket handler for chat rooms
app.ws('/chat/*', socket => {
  // Extract room name from URL
  const urlParts = socket.url.split('/');
  const roomName = urlParts[urlParts.length - 1] || 'general';

  // Update statistics
  stats.totalConnections++;
  stats.activeConnections++;

  if (!stats.roomStats.has(roomName)) {
    stats.roomStats.set(roomName, { users: 0, messages: 0 });
  }
  const roomStats = stats.roomStats.get(roomName)!;
  roomStats.users++;

  // Join the room
  socket.join(roomName);

  // Send welcome message
  socket.send(
    JSON.stringify({
      type: 'welcome',
      room: roomName,
      message: `Welcome to room "${roomName}"!`,
      stats: {
        activeUsers: roomStats.users,
        totalMessages: roomStats.messages,
      },
    })
  );

  // Notify others about new user
  setTimeout(() => {
    app.wsBroadcast(
      JSON.stringify({
        type: 'user-joined',
        room: roomName,
        message: `A new user joined "${roomName}"`,
        activeUsers: roomStats.users,
      }),
      roomName
    );
  }, 100);

  // Handle messages
  socket.onMessage(data => {
    roomStats.messages++;

    const broadcast = {
      type: 'chat-message',
      room: roomName,
      content: data.toString(),
      timestamp: new Date().toISOString(),
      messageId: `msg_${Date.now()}_${Math.random().toString(36).substr(2, 9)}`,
    };

    // Broadcast to room
    app.wsBroadcast(JSON.stringify(broadcast), roomName);
  });

  // Handle disconnection
  socket.onClose((code, reason) => {
    void reason; // unused in the spec's handler; this keeps the repo's noUnusedParameters build passing
    stats.activeConnections--;
    roomStats.users--;

    console.log(`User left room: ${roomName} (Code: ${code})`);

    // Notify others
    if (roomStats.users > 0) {
      app.wsBroadcast(
        JSON.stringify({
          type: 'user-left',
          room: roomName,
          message: `A user left "${roomName}"`,
          activeUsers: roomStats.users,
        }),
        roomName
      );
    }
  });
});

// Statistics endpoint
app.get('/stats', ctx => {
  ctx.res.json({
    totalConnections: stats.totalConnections,
    activeConnections: stats.activeConnections,
    rooms: Object.fromEntries(stats.roomStats),
  });
});

app.listen(PORT);
