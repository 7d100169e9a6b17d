// An HTTP/2 stream as a WebSocket's transport (RFC 8441 §6): END_STREAM stands for TCP FIN, RST_STREAM(CANCEL) for a reset.
import { constants, type ServerHttp2Stream } from 'node:http2';
import { attachSink, watchDrainOf, type Transport, type TransportSink } from './transport.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = constants;

/**
 * One HTTP/2 stream after `:status 200`. Writes follow the stream's flow control: `write()` answers
 * false and `writableLength` grows while the peer's window is shut, so the connection's backpressure
 * (`bufferedAmount`, the send limit, read pausing) works as over TCP. Every stream of a session shares
 * its TCP connection; a WebSocket never touches the session itself.
 */
export class Http2StreamTransport implements Transport {
  readonly httpVersion = '2.0';
  private readonly stream: ServerHttp2Stream;
  private drainWatched = false;

  constructor(stream: ServerHttp2Stream) {
    this.stream = stream;
    // Nothing is read until the connection resumes: messages sent during upgrade middleware wait here.
    stream.pause();
  }

  /** The same listeners as SocketTransport's: DATA held while paused is delivered before the close. */
  attach(sink: TransportSink): void {
    attachSink(this.stream, sink);
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  cork(): void {
    this.stream.cork();
  }

  uncork(): void {
    this.stream.uncork();
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /**
   * The orderly end: END_STREAM (RFC 8441 §6: "Orderly TCP-level closures are represented as END_STREAM
   * flags"). A connection ends only once it wants nothing more from the peer (closing handshake done, or
   * failed), so a peer that keeps its half open is then told to stop without error, as RFC 9113 §8.1
   * allows after a complete response: RST_STREAM(NO_ERROR), once our last DATA frame went out. Clients
   * that never end their half (undici) see the close at once instead of after the close timeout.
   */
  end(): void {
    const stream = this.stream;
    if (stream.destroyed) return;
    // Not close(NO_ERROR) at once: a stream marked closed could no longer be reset with CANCEL by destroy().
    stream.end(() => {
      if (!stream.readableEnded && !stream.closed) stream.close(NGHTTP2_NO_ERROR);
    });
  }

  /** RFC 8441 §6: "RST exceptions are represented with the RST_STREAM frame with the CANCEL error code". */
  destroy(): void {
    const stream = this.stream;
    if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    stream.destroy();
  }

  watchDrain(): void {
    if (this.drainWatched) return;
    this.drainWatched = true;
    watchDrainOf(this.stream);
  }

  get writableLength(): number {
    return this.stream.writableLength;
  }

  get writable(): boolean {
    return this.stream.writable && !this.stream.destroyed;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  /** The address of the TCP connection that carries the stream (and every other stream of its session). */
  get remoteAddress(): string {
    return this.stream.session?.socket?.remoteAddress ?? '';
  }
}
