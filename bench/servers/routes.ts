// The routes every nextrush benchmark server serves, as the shared harness expects: fan-out on /broadcast, echo elsewhere.
import type { Application } from '../../src/index.js';

export function benchRoutes(app: Application): void {
  app.ws('/broadcast', s => {
    s.join('b');
    s.onMessage(d => app.wsBroadcast(d, 'b'));
  });
  app.ws('/*', s => {
    s.onMessage(d => {
      s.send(d);
    });
  });
}
