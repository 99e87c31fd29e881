// Listens on the session events channel and carries out the relay's effects the lifecycle core
// (shared/session/lifecycle.ts) gives each event: a session held by this relay that becomes CLOSED
// has its appliance connection and every engineer channel ended at once; an extended one has its
// agent told the new expiry. One marked LOST while its tunnel is up is handed back to be declared
// CONNECTED. A session another relay took over (connected there, or marked LOST by that relay on its
// way in) ends this relay's stale tunnel instead. After a subscriber reconnect (events may have been
// missed) every tunnel is re-checked against Redis.
import { effectsOfOutcome, type LifecycleEffect } from '../shared/session/lifecycle.js';
import { parseSessionEvent } from '../shared/store/session-events.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { ApplianceRegistry, Tunnel } from './appliance-registry.js';
import { ChannelSubscription, type SubscriptionDeps } from './channel-subscription.js';

/** `channel`: the session events channel the subscriber listens on. */
export interface TeardownDeps extends SubscriptionDeps {
  sessions: SessionStore;
  registry: ApplianceRegistry;
  /** This relay: transitions made by another relay for a tunnel held here mean the tunnel moved. */
  relayId: string;
  /** Called for a live tunnel whose session is LOST in Redis. */
  onLostWhileLive: (t: Tunnel) => void;
  /** Called for every CLOSED session, held here or not (channels crossing to another relay). */
  onClosed?: ((sid: string) => void) | undefined;
  /** Called for a live tunnel here whose session's expiry moved: the agent is told. */
  onExtended: (t: Tunnel, expiresAt: number) => void;
}

type RelayEffect = Extract<LifecycleEffect, { by: 'relay' }>;
const isRelayEffect = (e: LifecycleEffect): e is RelayEffect => e.by === 'relay';

export class TeardownListener {
  private readonly subscription: ChannelSubscription;

  constructor(private readonly deps: TeardownDeps) {
    this.subscription = new ChannelSubscription(deps, 'teardown', { onMessage: (raw) => this.onMessage(raw), reconcile: () => this.reconcile() });
  }

  start(): Promise<void> {
    return this.subscription.start();
  }

  close(): Promise<void> {
    return this.subscription.close();
  }

  private onMessage(raw: string): void {
    const ev = parseSessionEvent(raw);
    if (!ev) return;
    const effects = effectsOfOutcome(ev.outcome, ev.from).filter(isRelayEffect);
    if (effects.length === 0) return;
    // Channels crossing from here to a tunnel another relay holds end with the session too.
    if (effects.some((e) => e.kind === 'tear-down-tunnel')) this.deps.onClosed?.(ev.sid);
    const t = this.deps.registry.forSession(ev.sid, ev.serial);
    if (!t || t.ended) return;
    // This relay's own transitions need no answer (a LOST it wrote on taking a session over included).
    if (ev.relay === this.deps.relayId) return;
    if (ev.relay) {
      this.deps.logger.info({ sid: ev.sid, serial: ev.serial, relay: ev.relay }, 'tunnel taken over by another relay: ending the one here');
      return this.deps.registry.end(t, 'replaced');
    }
    // LOST while the tunnel is up here: the tunnel is the truth, the session is CONNECTED again.
    if (ev.to === 'LOST') return this.deps.onLostWhileLive(t);
    for (const effect of effects) {
      switch (effect.kind) {
        case 'tear-down-tunnel':
          this.deps.logger.info({ sid: ev.sid, serial: ev.serial, reason: ev.reason }, 'session closed: tearing down its tunnel');
          return this.deps.registry.end(t, 'closed');
        case 'tell-expiry':
          if (ev.expiresAt !== undefined) this.deps.onExtended(t, ev.expiresAt);
          break;
        case 'start-heartbeat':
        case 'stop-heartbeat':
          // The heartbeat batcher beats every registered, connected tunnel: nothing to start or stop.
          break;
      }
    }
  }

  /** Ends every tunnel whose session is gone or CLOSED in Redis; re-asserts LOST ones. */
  async reconcile(): Promise<void> {
    for (const t of [...this.deps.registry.values()]) {
      const s = await this.deps.sessions.get(t.sid);
      if (!s || s.state === 'CLOSED') this.deps.registry.end(t, 'closed');
      else if (s.relayId && s.relayId !== this.deps.relayId && t.connected) this.deps.registry.end(t, 'replaced');
      else if (s.state === 'LOST' && !t.ended) this.deps.onLostWhileLive(t);
      else if (s.expiresAt !== t.expiresAt && !t.ended) this.deps.onExtended(t, s.expiresAt);
    }
  }
}
