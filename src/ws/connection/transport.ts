// The byte stream under a WebSocket connection: the small surface a connection reads and writes through.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * What a connection is told about its transport. Called with the transport's events, in order; after
 * `closed()` nothing more is called.
 */
export interface TransportSink {
  /** Bytes from the peer. */
  transportData(chunk: Buffer): void;
  /** The peer finished sending (TCP FIN, or the end of an HTTP/2 stream's request body). */
  transportEnded(): void;
  /**
   * The transport is gone; called once, also after `destroy()`. Bytes that arrived while reading was
   * paused are delivered through `transportData()` first, so a close frame among them is still seen.
   */
  transportClosed(): void;
  /** An I/O error; `transportClosed()` follows. */
  transportError(error: Error): void;
  /** Everything written has been handed to the kernel (after `write()` returned false). */
  transportDrained(): void;
}

/**
 * The surface a WebSocket connection needs from its byte stream. `SocketTransport` implements it over a
 * `net.Socket` (HTTP/1.1 upgrade); an HTTP/2 stream (RFC 8441 extended CONNECT) can implement it too,
 * and the same connection then runs on it. Rules an implementation keeps:
 * - `write()` takes ownership of the buffer and returns false once its own buffer is over its high-water
 *   mark; `transportDrained()` follows when it is empty again (only while `watchDrain` is on).
 * - `pause()` stops `transportData()` calls until `resume()`; bytes keep accumulating in the transport.
 * - bytes held while paused are delivered before `transportClosed()` (see TransportSink).
 * - `end()` half-closes (sends FIN / ends the stream) after pending writes; `destroy()` drops at once.
 */
export interface Transport {
  /** Starts delivering events to `sink` (once). Reading begins paused: call `resume()`. */
  attach(sink: TransportSink): void;
  write(chunk: Buffer): boolean;
  /** Writes between cork() and uncork() go out together. */
  cork(): void;
  uncork(): void;
  pause(): void;
  resume(): void;
  end(): void;
  destroy(): void;
  /** Calls `transportDrained()` on every drain from now on (listening costs memory, so only when needed). */
  watchDrain(): void;
  /** Bytes held by the transport that have not been handed to the kernel yet. */
  readonly writableLength: number;
  /** False once the transport can no longer write (ended, destroyed or failed). */
  readonly writable: boolean;
  readonly destroyed: boolean;
  /** The peer's IP address, or '' when unknown. */
  readonly remoteAddress: string;
  /** What carries the WebSocket: an HTTP/1.1 connection after a 101, or an HTTP/2 stream (RFC 8441). */
  readonly httpVersion: '1.1' | '2.0';
}

const kSink = Symbol('nextrush.ws.sink');
type TaggedSocket = Duplex & { [kSink]: TransportSink };

// Listeners are shared functions that find their sink through the socket: a connection costs no closures.
function onData(this: TaggedSocket, chunk: Buffer): void {
  this[kSink].transportData(chunk);
}
function onEnd(this: TaggedSocket): void {
  this[kSink].transportEnded();
}
function onClose(this: TaggedSocket): void {
  const sink = this[kSink];
  if (this.readableLength > 0) {
    // Bytes read from the kernel while paused: read() of a destroyed stream returns them (no 'data').
    this.removeListener('data', onData);
    const rest = this.read() as Buffer | null;
    if (rest !== null) sink.transportData(rest);
  }
  sink.transportClosed();
}
function onError(this: TaggedSocket, error: Error): void {
  this[kSink].transportError(error);
}
function onDrain(this: TaggedSocket): void {
  this[kSink].transportDrained();
}

/** Delivers a stream's events to `sink` (a net.Socket or an HTTP/2 stream: both are Duplex streams). */
export function attachSink(stream: Duplex, sink: TransportSink): void {
  const tagged = stream as TaggedSocket;
  tagged[kSink] = sink;
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('close', onClose);
  stream.on('error', onError);
}

/** Calls the sink's `transportDrained()` on every 'drain' of a stream given to attachSink(). */
export function watchDrainOf(stream: Duplex): void {
  stream.on('drain', onDrain);
}

/** A `net.Socket` after an HTTP/1.1 upgrade (RFC 6455 4). */
export class SocketTransport implements Transport {
  private readonly socket: Socket;
  private drainWatched = false;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    // A keep-alive timeout left from an earlier request on this connection must not end the WebSocket.
    if (socket.timeout) socket.setTimeout(0);
    // Nothing is read until the connection resumes: messages sent during upgrade middleware wait here.
    socket.pause();
  }

  attach(sink: TransportSink): void {
    attachSink(this.socket, sink);
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  watchDrain(): void {
    if (this.drainWatched) return;
    this.drainWatched = true;
    watchDrainOf(this.socket);
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  get writable(): boolean {
    return this.socket.writable && !this.socket.destroyed;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get httpVersion(): '1.1' {
    return '1.1';
  }
}
