// Write batching: frames produced in one tick are flushed together, one socket write per connection.

/** Anything that holds frames to write and can write them out. */
export interface Flushable {
  /** Set by the scheduler while the connection is in the queue, so it is queued once per tick. */
  flushQueued: boolean;
  /** Writes out the frames queued since the last flush. */
  flush(): void;
}

const queue: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // Connections queued while flushing (e.g. a close handler that sends) join this same pass.
  for (let i = 0; i < queue.length; i++) {
    const item = queue[i];
    item.flushQueued = false;
    item.flush();
  }
  queue.length = 0;
}

/**
 * Queues `item` to be flushed at the end of the current tick (process.nextTick runs after the current
 * I/O callback, so every frame produced while handling one read, or one broadcast, goes out in one write).
 */
export function scheduleFlush(item: Flushable): void {
  if (item.flushQueued) return;
  item.flushQueued = true;
  queue.push(item);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flushAll);
  }
}
