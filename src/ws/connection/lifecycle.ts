// The one state machine of a connection: PENDING -> OPEN -> CLOSING -> CLOSED, and the closing handshake.
import { CloseCode } from '../../protocol/close-codes.js';

/** `socket.readyState` values (the numbers of the WebSocket API). */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/**
 * A connection's states; each is the readyState users see.
 *
 *   PENDING  the 101 is sent and wsUse middleware runs. The socket may send() (an auth challenge) and
 *            counts against maxConnections, but it is in no broadcast set and may join no room; nothing
 *            it receives is decoded yet.                                          readyState 0
 *   OPEN     the route handler is attached: broadcasts reach it, rooms accept it.  readyState 1
 *   CLOSING  a close frame was sent or received, or the peer ended TCP; no data is
 *            sent any more.                                                         readyState 2
 *   CLOSED   the transport is gone. onClose handlers run, seeing `rooms` as they
 *            were; only then does the hub drop the connection from its sets.       readyState 3
 *
 * PENDING -> CLOSING happens when middleware closes or fails the socket; any state -> CLOSED when the
 * transport closes. No other transition exists.
 */
export const State = {
  Pending: ReadyState.CONNECTING,
  Open: ReadyState.OPEN,
  Closing: ReadyState.CLOSING,
  Closed: ReadyState.CLOSED,
} as const;
export type State = ReadyState;

/** Facts of the closing handshake (RFC 6455 7), as bits. */
const CloseSent = 1;
const PeerFinished = 2;

/** The state and closing-handshake facts of one connection; the connection class extends it. */
export class Lifecycle {
  /** Read by everything, written only by the transitions below. */
  state: State = State.Pending;
  private closeFacts = 0;
  /** The code of the peer's close frame; 1006 (never on the wire) until one arrives. */
  private peerCode: number = CloseCode.Abnormal;
  private peerReason = '';

  /** PENDING -> OPEN. False when middleware already closed the connection. */
  protected toOpen(): boolean {
    if (this.state !== State.Pending) return false;
    this.state = State.Open;
    return true;
  }

  /** PENDING / OPEN -> CLOSING. False when already closing or closed. */
  protected toClosing(): boolean {
    if (this.state >= State.Closing) return false;
    this.state = State.Closing;
    return true;
  }

  /** -> CLOSED, once. */
  protected toClosed(): boolean {
    if (this.state === State.Closed) return false;
    this.state = State.Closed;
    return true;
  }

  /** Our close frame is queued: no data frame may follow it (RFC 6455 5.5.1). */
  protected markCloseSent(): void {
    this.toClosing();
    this.closeFacts |= CloseSent;
  }

  get closeSent(): boolean {
    return (this.closeFacts & CloseSent) !== 0;
  }

  /** The peer's close frame arrived (its code is 1005 when it carried none). */
  protected markCloseReceived(code: number, reason: string): void {
    this.toClosing();
    this.peerCode = code;
    this.peerReason = reason;
  }

  get closeReceived(): boolean {
    return this.peerCode !== CloseCode.Abnormal;
  }

  /** The peer half-closed the transport; without a close frame first that is an abnormal closure. */
  protected markPeerFinished(): void {
    this.toClosing();
    this.closeFacts |= PeerFinished;
  }

  get peerFinished(): boolean {
    return (this.closeFacts & PeerFinished) !== 0;
  }

  /** What onClose reports: the peer's code and reason, or 1006 and '' when no close frame came. */
  get closeCode(): number {
    return this.peerCode;
  }

  get closeReason(): string {
    return this.peerReason;
  }
}
