// This relay's membership of the fleet: its registration in Redis (peer address, host-key
// fingerprint, fleet key, load), renewed on a ticker, marked draining on drain, removed on close. A
// relay that dies stops renewing and drops out of the fleet within the registration's TTL.
import type { Logger } from '../shared/logger.js';
import type { RelayFleetStore, RelayRegistration, RelayState } from '../shared/store/relay-fleet.store.js';
import { registrationTtlMs } from './fleet-protocol.js';

export interface FleetMemberDeps {
  store: RelayFleetStore;
  id: string;
  hostKeyFp: string;
  /** base64 raw Ed25519 public half of this relay's fleet key. */
  fleetKey: string;
  renewMs: number;
  load: () => { tunnels: number; channels: number };
  now: () => number;
  logger: Logger;
}

export class FleetMember {
  private timer: NodeJS.Timeout | undefined;
  private state: RelayState = 'serving';
  private peer: RelayRegistration['peer'] | undefined;
  private startedAt = 0;
  private closed = false;

  constructor(private readonly deps: FleetMemberDeps) {}

  /** Registers with the peer listener's address, then renews every renewMs. */
  async start(peer: RelayRegistration['peer']): Promise<void> {
    this.peer = peer;
    this.startedAt = this.deps.now();
    await this.renew();
    this.timer = setInterval(() => void this.renew().catch((err: unknown) => this.deps.logger.warn({ err }, 'fleet registration renewal failed')), this.deps.renewMs);
    this.timer.unref();
  }

  /** Tells the fleet this relay takes no new work (best effort: the drain goes on without Redis). */
  async draining(): Promise<void> {
    this.state = 'draining';
    await this.renew().catch((err: unknown) => this.deps.logger.warn({ err }, 'could not mark this relay draining'));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.peer) await this.deps.store.leave(this.deps.id).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not leave the fleet registry'));
  }

  private async renew(): Promise<void> {
    if (!this.peer || this.closed) return;
    const now = this.deps.now();
    await this.deps.store.renew(
      {
        id: this.deps.id,
        peer: this.peer,
        hostKeyFp: this.deps.hostKeyFp,
        fleetKey: this.deps.fleetKey,
        state: this.state,
        ...this.deps.load(),
        startedAt: this.startedAt,
        renewedAt: now,
      },
      registrationTtlMs(this.deps.renewMs),
    );
  }
}
