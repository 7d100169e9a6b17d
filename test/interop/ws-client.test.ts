// Interop: the `ws` package's client against the server under test.
import { registerInteropSuite } from './scenarios.js';
import { openWsClient } from './session.js';

registerInteropSuite('ws client', { open: openWsClient });
