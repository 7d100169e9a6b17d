// An upgrade waiting for verifyClient: it holds a maxConnections slot, released exactly once however it ends.
import type { RouteMatch } from '../../core/router.js';
import type { WebSocketHub } from '../hub.js';
import type { WebSocketPluginOptions, WSHandler } from '../types.js';
import { accept, refuse } from './admit.js';
import type { UpgradeRequest, UpgradeResponder } from './request.js';

type Verifier = NonNullable<WebSocketPluginOptions['verifyClient']>;

function onVerifyTimeout(pending: PendingUpgrade): void {
  pending.timedOut();
}

/**
 * The slot is taken in the constructor and released by the first of: the verdict (true -> accept,
 * false -> 401), a throw or rejection (500), `verifyTimeoutMs` passing (503), or the client hanging up.
 * Whatever comes after the first is ignored.
 */
export class PendingUpgrade {
  private settled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hub: WebSocketHub,
    private readonly request: UpgradeRequest,
    private readonly responder: UpgradeResponder,
    private readonly route: RouteMatch<WSHandler>,
    private readonly protocol: string | undefined
  ) {
    hub.pendingUpgrades++;
    responder.onAbort(() => this.release());
  }

  /** Frees the slot; false when it was freed already (the upgrade has been answered or abandoned). */
  private release(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.hub.pendingUpgrades--;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return true;
  }

  verify(verify: Verifier): void {
    let verdict: unknown;
    try {
      verdict = verify(this.request.req);
    } catch (error) {
      return this.failed(error);
    }
    if (typeof verdict === 'boolean') return this.verified(verdict);
    this.timer = setTimeout(onVerifyTimeout, this.hub.options.verifyTimeoutMs, this);
    Promise.resolve(verdict).then(
      ok => this.verified(ok === true),
      (error: unknown) => this.failed(error)
    );
  }

  private verified(ok: boolean): void {
    if (!this.release()) return;
    if (!ok) return refuse(this.hub, this.responder, 'verify', 'WS_REFUSE_UNAUTHORIZED');
    accept(this.hub, this.request, this.responder, this.route, this.protocol);
  }

  private failed(error: unknown): void {
    if (!this.release()) return;
    this.hub.log('error', 'verifyClient threw', { url: this.request.url, error: String(error) });
    refuse(this.hub, this.responder, 'error', 'WS_REFUSE_VERIFY_FAILED');
  }

  timedOut(): void {
    if (!this.release()) return;
    this.hub.log('warn', 'verifyClient did not settle in time', {
      url: this.request.url,
      code: 'WS_REFUSE_VERIFY_TIMEOUT',
      verifyTimeoutMs: this.hub.options.verifyTimeoutMs,
    });
    refuse(this.hub, this.responder, 'timeout', 'WS_REFUSE_VERIFY_TIMEOUT');
  }
}
