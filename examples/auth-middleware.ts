// Spec example "Authentication Middleware": token check (1008) and per-IP rate limit (1008) in wsUse.
import { createApp, WebSocketPlugin } from 'nextrush-v2';

const PORT = Number(process.env.PORT ?? 3000);

const app = createApp();
const wsPlugin = new WebSocketPlugin({ path: '/ws' });
wsPlugin.install(app);

/** Stand-in for a real JWT check: accepts "valid-<name>" tokens. */
async function verifyJWTToken(token: string): Promise<{ name: string }> {
  if (!token.startsWith('valid-')) throw new Error('invalid token');
  return { name: token.slice('valid-'.length) };
}

/** Connection times per client IP. */
const rateLimitStore = new Map<string | undefined, number[]>();

// JWT token verification middleware
app.wsUse(async (socket, req, next) => {
  const url = new URL(req.url!, `http://${req.headers.host}`);
  const token = url.searchParams.get('token');

  if (!token) {
    return socket.close(1008, 'Authentication required');
  }

  try {
    // Verify token (replace with your JWT verification)
    const user = await verifyJWTToken(token);

    // Attach user to socket for later use
    (socket as any).user = user;

    next();
  } catch (error) {
    socket.close(1008, 'Invalid token');
  }
});

// Rate limiting middleware
app.wsUse(async (socket, req, next) => {
  const clientIP = req.socket.remoteAddress;
  const now = Date.now();

  // Simple rate limiting (5 connections per IP per minute)
  if (!rateLimitStore.has(clientIP)) {
    rateLimitStore.set(clientIP, []);
  }

  const connections = rateLimitStore.get(clientIP)!;
  const recentConnections = connections.filter(time => now - time < 60000);

  if (recentConnections.length >= 5) {
    return socket.close(1008, 'Rate limit exceeded');
  }

  connections.push(now);
  rateLimitStore.set(clientIP, connections);

  next();
});

// A route to reach: greets the authenticated user.
app.ws('/ws', socket => {
  socket.send(`Hello ${(socket as any).user.name}`);
});

app.listen(PORT);
