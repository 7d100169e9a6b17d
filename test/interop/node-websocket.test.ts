// Interop: Node's own WHATWG WebSocket (global on Node 22+, undici's on Node 20) against the server under test.
import { registerInteropSuite } from './scenarios.js';
import { nodeWebSocketName, openNodeWebSocket } from './session.js';

registerInteropSuite(`Node ${process.version} ${nodeWebSocketName}`, { open: openNodeWebSocket });
