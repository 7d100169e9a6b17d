// Spec example "Error Handling": JSON messages are validated and processed; failures are reported.
import { createApp, WebSocketPlugin, type WSConnection } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/secure-ws' });
wsPlugin.install(app);

interface Message {
  type: string;
  payload?: unknown;
}

/** A message is an object with a string `type`. */
function isValidMessage(message: unknown): message is Message {
  return typeof message === 'object' && message !== null && typeof (message as Message).type === 'string';
}

/** Stand-in for real work: the type "fail" fails. */
async function processMessage(message: Message): Promise<void> {
  if (message.type === 'fail') throw new Error('processing failed');
}

/** Stand-in for releasing per-connection resources. */
function cleanupUserResources(socket: WSConnection): void {
  console.log(`Cleaned up resources of ${socket.url}`);
}

app.ws('/secure-ws', socket => {
  socket.onMessage(async data => {
    try {
      const message = JSON.parse(data.toString());

      // Validate message structure
      if (!isValidMessage(message)) {
        socket.send(
          JSON.stringify({
            error: 'Invalid message format',
          })
        );
        return;
      }

      // Process message
      await processMessage(message);
    } catch (error) {
      console.error('Message processing error:', error);

      socket.send(
        JSON.stringify({
          error: 'Message processing failed',
        })
      );
    }
  });

  socket.onClose((code, reason) => {
    // Log disconnections for monitoring
    console.log(`WebSocket closed: ${code} - ${reason}`);

    // Cleanup resources
    cleanupUserResources(socket);
  });
});

app.listen(PORT);
