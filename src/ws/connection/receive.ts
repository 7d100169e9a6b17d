// The receive path of one connection: byte budget -> frame decoder -> inflate -> UTF-8 -> message handlers.
import { CloseCode } from '../../protocol/close-codes.js';
import { FrameDecoder, type FrameSink } from '../../protocol/decoder.js';
import { ProtocolError, type ProtocolErrorCode } from '../../protocol/errors.js';
import { Opcode } from '../../protocol/opcodes.js';
import { isValidUtf8 } from '../../protocol/utf8.js';
import { Verdict, type MessageMeter } from '../limits/message-rate.js';
import type { WSMessage } from '../types.js';
import type { Connection } from './connection.js';
import { State } from './lifecycle.js';

/** Reasons reading from the transport is paused; reading resumes when none is left. */
export const PauseReason = { Setup: 1, Backpressure: 2, Inflate: 4, RateLimit: 8 } as const;

/** What the connection holds of its receive path: bytes in, and a way to stop decoding for good. */
export interface ReceivePath {
  push(chunk: Buffer): void;
  stop(): void;
}

/** Stands in for the receive path once decoding has stopped: it ignores everything pushed to it. */
export const STOPPED: ReceivePath = { push() {}, stop() {} };

function onThrottleEnd(connection: Connection): void {
  connection.resumeReading(PauseReason.RateLimit);
}

/**
 * Created on a connection's first received byte, so an idle connection carries neither a decoder nor
 * rate budgets. It owns decoding, inflating and dispatch; the connection owns state, flow control and
 * the closing handshake, which this calls into.
 */
export class Receiver implements FrameSink, ReceivePath {
  private readonly connection: Connection;
  private readonly decoder: FrameDecoder;
  /** Message and byte budgets when `messageRate` is on, else null: one check per chunk and per message. */
  private readonly meter: MessageMeter | null;

  constructor(connection: Connection) {
    this.connection = connection;
    const host = connection.host;
    this.meter = host.messageRate?.meter() ?? null;
    this.decoder = new FrameDecoder(this, {
      maxMessageSize: host.options.maxMessageSize,
      compression: connection.queue.deflater !== null,
    });
  }

  push(chunk: Buffer): void {
    const meter = this.meter;
    if (meter !== null && meter.received(chunk.length, performance.now())) {
      // Over the byte budget: with 'close' the peer is closed before its bytes are decoded; with
      // 'drop' this chunk is decoded (its messages are dropped) and reading pauses until the budget refills.
      if (this.closesOverBudget()) {
        this.connection.host.messageRate?.exceeded(this.connection, Verdict.Bytes | Verdict.First);
        return this.throttle(meter);
      }
      this.throttle(meter);
    }
    try {
      this.decoder.push(chunk);
    } catch (error) {
      this.decodeFailed(error);
    }
  }

  stop(): void {
    this.decoder.destroy();
  }

  /**
   * Something threw out of decoding that is not the peer's protocol error: a text message over V8's
   * string limit (ERR_STRING_TOO_LONG), or a bug. It must not escape the transport's data handler.
   */
  private decodeFailed(error: unknown): void {
    const connection = this.connection;
    const tooLong = (error as { code?: unknown } | null)?.code === 'ERR_STRING_TOO_LONG';
    connection.host.log('error', 'decoding failed', { url: connection.url, error: String(error) });
    connection.failWith(tooLong ? 'WS_CLOSE_STRING_TOO_LONG' : 'WS_CLOSE_HANDLER_FAILED');
  }

  // ---- the decoder's sink ------------------------------------------------------------------------

  onText(text: string): void {
    this.dispatch(text);
  }

  onBinary(data: Buffer): void {
    this.dispatch(data);
  }

  onCompressedFrame(payload: Buffer, isText: boolean, _first: boolean, fin: boolean): void {
    const connection = this.connection;
    const deflater = connection.queue.deflater;
    if (deflater === null) return;
    // Decode nothing more, and read nothing more, until this frame is inflated: order and memory stay bounded.
    this.decoder.pause();
    connection.pauseReading(PauseReason.Inflate);
    deflater.inflateFrame(payload, fin, connection.host.options.maxMessageSize, (error, message) =>
      this.inflated(error, message, isText)
    );
  }

  private inflated(error: ProtocolErrorCode | null, message: Buffer | undefined, isText: boolean): void {
    // Read on in every case: after a failure the peer's close frame (or FIN) must still be seen.
    this.connection.resumeReading(PauseReason.Inflate);
    if (this.decoder.isFinished) return;
    if (error !== null) return this.onError(new ProtocolError(error));
    if (message !== undefined) {
      if (!isText) this.dispatch(message);
      // RFC 7692 6: the inflated payload of a text message must be valid UTF-8 (RFC 6455 8.1).
      else if (!isValidUtf8(message)) return this.onError(new ProtocolError('WS_ERR_INVALID_UTF8'));
      else if (!this.dispatchText(message)) return;
    }
    try {
      this.decoder.resume();
    } catch (resumeError) {
      this.decodeFailed(resumeError);
    }
  }

  /** An inflated text message: too large for a JavaScript string fails with 1009 instead of throwing. */
  private dispatchText(message: Buffer): boolean {
    let text: string;
    try {
      text = message.toString('utf8');
    } catch (error) {
      this.decodeFailed(error);
      return false;
    }
    this.dispatch(text);
    return true;
  }

  onPing(payload: Buffer): void {
    // RFC 6455 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response,
    // unless it already received a Close frame." The pong carries the ping's payload.
    const connection = this.connection;
    if (connection.acceptsData) connection.queue.sendControl(Opcode.Pong, payload);
  }

  onPong(): void {
    // Liveness is recorded for every byte received (the connection's lastSeen).
  }

  onCloseFrame(code: number, reason: string): void {
    this.connection.peerClosed(code === CloseCode.NoStatus ? undefined : code, code, reason);
  }

  onError(error: ProtocolError): void {
    const connection = this.connection;
    connection.host.stats.protocolErrors++;
    connection.host.log('debug', 'protocol error', {
      url: connection.url,
      code: error.code,
      close: error.closeCode,
    });
    connection.fail(error.closeCode, error.message);
  }

  // ---- budgets and dispatch ----------------------------------------------------------------------

  /**
   * Stops reading from a peer over its budget until the budget refills (for good once it is closed for
   * it): what it sends meanwhile waits in the kernel and TCP pushes back on the peer, so a flood costs the
   * server, and every other connection, next to nothing.
   */
  private throttle(meter: MessageMeter): void {
    const connection = this.connection;
    if (connection.isPaused(PauseReason.RateLimit)) return;
    connection.pauseReading(PauseReason.RateLimit);
    // Closed for its rate: nothing it sends is read any more; closeTimeoutMs ends the socket.
    if (connection.state > State.Open) return;
    setTimeout(onThrottleEnd, Math.max(1, Math.ceil(meter.msUntilAdmitted())), connection).unref();
  }

  private closesOverBudget(): boolean {
    return (
      this.connection.host.messageRate?.settings.policy === 'close' && this.connection.state <= State.Open
    );
  }

  private dispatch(data: WSMessage): void {
    const connection = this.connection;
    connection.host.stats.messagesReceived++;
    const meter = this.meter;
    if (meter !== null) {
      const verdict = meter.admit();
      if (verdict !== Verdict.Admitted) {
        connection.host.messageRate?.exceeded(connection, verdict);
        return this.throttle(meter);
      }
    }
    connection.deliver(data);
  }
}
