// The hub/adapter contract over real sockets: broadcast delivers locally then publishes once; remote text is framed from bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  AdapterHost,
  AdapterStats,
  BroadcastAdapter,
  BroadcastData,
  ClusterStats,
} from '../../src/ws/adapter.js';
import { open, startsApps } from '../ws/helpers.js';

/** An adapter that records what it is asked to publish and lets the test inject messages "from another node". */
class ProbeAdapter implements BroadcastAdapter {
  readonly name = 'probe';
  host!: AdapterHost;
  readonly published: { data: BroadcastData; room: string | undefined }[] = [];
  attach(host: AdapterHost): void {
    this.host = host;
  }
  publish(data: BroadcastData, room?: string): void {
    this.published.push({ data, room });
  }
  roomCreated(): void {}
  roomDeleted(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
  stats(): AdapterStats {
    return { published: this.published.length, received: 0, errors: 0, connected: true };
  }
  clusterStats(): Promise<ClusterStats> {
    const own = this.host.localStats();
    return Promise.resolve({ nodes: 1, connections: own.connections, rooms: own.rooms, perNode: [own] });
  }
}

const start = startsApps();

for (const deflate of [false, true]) {
  void describe(`hub and adapter${deflate ? ' with permessage-deflate' : ''}`, () => {
    void it('delivers a broadcast locally itself and publishes it once; remote messages come in as bytes', async () => {
      const adapter = new ProbeAdapter();
      const server = await start(
        { path: '/ws', adapter, ...(deflate && { perMessageDeflate: { threshold: 0 } }) },
        app =>
          app.ws('/ws', socket => {
            socket.join('r');
            socket.send('joined');
          })
      );
      const client = await open(server.url('/ws'), { perMessageDeflate: deflate });
      assert.equal(await client.next(), 'joined');

      assert.equal(server.plugin.broadcast('local ✓', 'r'), 1);
      assert.equal(await client.next(), 'local ✓');
      const bin = Buffer.from([0, 0xff, 1]);
      server.app.wsBroadcast(bin);
      assert.deepEqual(await client.next(), bin);
      assert.deepEqual(adapter.published, [
        { data: 'local ✓', room: 'r' },
        { data: bin, room: undefined },
      ]);

      // Text from another node: UTF-8 bytes framed as a text frame, not decoded on the way.
      const text = Buffer.from('from elsewhere é✓ 𝄞');
      assert.equal(adapter.host.deliverRemote(text, true, 'r'), 1);
      assert.equal(await client.next(), 'from elsewhere é✓ 𝄞');
      assert.equal(adapter.host.deliverRemote(Buffer.from([7, 8]), false), 1);
      assert.deepEqual(await client.next(), Buffer.from([7, 8]));
      assert.equal(adapter.host.deliverRemote(text, true, 'nobody-here'), 0);
      // Remote deliveries are never published again.
      assert.equal(adapter.published.length, 2);
      client.ws.close();
    });
  });
}
