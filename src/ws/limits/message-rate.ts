// Per-connection message and byte budgets (token buckets); the receive path pays a few number operations.
import type { Logger } from '../log.js';
import type { WSConnection } from '../types.js';
import { msUntil, refilled } from './token-bucket.js';
import type { MessageLimitEvent } from './types.js';

/** The `messageRate` option, validated; a rate of 0 means that budget is not limited. */
export interface MessageRateSettings {
  messagesPerSecond: number;
  bytesPerSecond: number;
  /** Bucket sizes: rate x burst, at least one message. */
  messageBurst: number;
  byteBurst: number;
  policy: 'drop' | 'close';
  onLimit: ((socket: WSConnection, event: MessageLimitEvent) => void) | undefined;
}

/**
 * What `MessageMeter#admit` found: 0 admitted, else the budget that is overspent, plus `First` on the
 * first limited message after an admitted one (the hook fires once per episode of dropped messages).
 */
export const Verdict = { Admitted: 0, Messages: 1, Bytes: 2, First: 4 } as const;

/**
 * One connection's budgets. The clock is read once per chunk received (`received`), never per message,
 * and nothing is allocated after construction.
 */
export class MessageMeter {
  private messages: number;
  private bytes: number;
  private last: number;
  /** Inside an episode of limited messages. */
  private limited = false;

  constructor(
    private readonly settings: MessageRateSettings,
    now: number
  ) {
    this.messages = settings.messageBurst;
    this.bytes = settings.byteBurst;
    this.last = now;
  }

  /**
   * Refills both buckets to `now` (ms) and charges `length` received bytes. The byte debt is floored at
   * one burst, so a peer that stops flooding is heard again within `burst` seconds. Returns true when the
   * byte budget is overspent.
   */
  received(length: number, now: number): boolean {
    const s = this.settings;
    const elapsed = now - this.last;
    this.last = now;
    if (s.messagesPerSecond !== 0)
      this.messages = refilled(this.messages, elapsed, s.messagesPerSecond, s.messageBurst);
    if (s.bytesPerSecond === 0) return false;
    const bytes = refilled(this.bytes, elapsed, s.bytesPerSecond, s.byteBurst) - length;
    this.bytes = bytes < -s.byteBurst ? -s.byteBurst : bytes;
    return bytes < 0;
  }

  /** Milliseconds until a message would be admitted (both budgets refilled enough). */
  msUntilAdmitted(): number {
    const s = this.settings;
    const messages = s.messagesPerSecond === 0 ? 0 : msUntil(this.messages, 1, s.messagesPerSecond);
    const bytes = s.bytesPerSecond === 0 ? 0 : msUntil(this.bytes, 0, s.bytesPerSecond);
    return messages > bytes ? messages : bytes;
  }

  /** Charges one complete message: `Verdict.Admitted`, or the overspent budget (| `Verdict.First`). */
  admit(): number {
    const s = this.settings;
    let verdict: number = Verdict.Admitted;
    if (s.bytesPerSecond !== 0 && this.bytes < 0) verdict = Verdict.Bytes;
    else if (s.messagesPerSecond !== 0) {
      if (this.messages < 1) verdict = Verdict.Messages;
      else this.messages -= 1;
    }
    if (verdict === Verdict.Admitted) {
      this.limited = false;
      return verdict;
    }
    if (this.limited) return verdict;
    this.limited = true;
    return verdict | Verdict.First;
  }
}

/** What the limiter needs from a connection it limits. */
export interface LimitedConnection {
  /** The object handlers get (handed to `onLimit`). */
  readonly socket: WSConnection;
  readonly url: string;
  /** Closes with a policy close of the catalogue. */
  failWith(why: 'WS_CLOSE_RATE_LIMIT'): void;
}

/** The plugin's `messageRate` policy: creates each connection's meter and acts on what meters find. */
export class MessageRate {
  /** Messages dropped (policy 'drop'). */
  messagesLimited = 0;
  /** Connections closed with 1008 (policy 'close'). */
  connectionsLimited = 0;

  constructor(
    readonly settings: MessageRateSettings,
    private readonly log: Logger
  ) {}

  meter(): MessageMeter {
    return new MessageMeter(this.settings, performance.now());
  }

  /** A meter found `verdict` (not Admitted) for a message or chunk of `socket`: count, tell the app, drop or close. */
  exceeded(connection: LimitedConnection, verdict: number): void {
    const limit = (verdict & Verdict.Bytes) !== 0 ? 'bytesPerSecond' : 'messagesPerSecond';
    const { policy, onLimit } = this.settings;
    if (policy === 'drop') this.messagesLimited++;
    else this.connectionsLimited++;
    if (onLimit !== undefined && (policy === 'close' || (verdict & Verdict.First) !== 0)) {
      try {
        onLimit(connection.socket, { limit, policy });
      } catch (error) {
        this.log('error', 'messageRate.onLimit threw', { url: connection.url, error: String(error) });
      }
    }
    if (policy === 'close') connection.failWith('WS_CLOSE_RATE_LIMIT');
  }
}
