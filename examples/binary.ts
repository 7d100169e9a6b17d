// Spec example "Binary Data Handling": binary messages come back reversed, text is acknowledged.
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/binary' });
wsPlugin.install(app);

app.ws('/binary', socket => {
  socket.onMessage(data => {
    if (Buffer.isBuffer(data)) {
      console.log(`Received binary data: ${data.length} bytes`);

      // Process binary data
      const processed = processBinaryData(data);

      // Send binary response
      socket.send(processed);
    } else {
      // Handle text message
      console.log(`Received text: ${data}`);
      socket.send(`Text received: ${data}`);
    }
  });
});

function processBinaryData(buffer: Buffer): Buffer {
  // Example: reverse the bytes
  return Buffer.from(buffer).reverse();
}

app.listen(PORT);
