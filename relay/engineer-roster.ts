// Live engineer connections on this relay, by engineer name, with the key each one used. When an
// engineer (or one key) is removed, every relay ends the matching connections, and with them every
// channel they carry; after a missed announcement (subscriber reconnect) the roster is re-checked.
import type { Connection } from 'ssh2';
import type { AuditLog } from '../shared/store/audit.store.js';
import { engineerRevocationSchema, type EngineerRevocation, type EngineerDirectory } from '../shared/store/engineer.store.js';
import { ChannelSubscription, type SubscriptionDeps } from './channel-subscription.js';

export interface EngineerLink {
  name: string;
  fingerprint: string;
  conn: Connection;
}

/** `channel`: the one engineer withdrawals are announced on. */
export interface RosterDeps extends SubscriptionDeps {
  engineers: EngineerDirectory;
  audit: AuditLog;
  relayId: string;
  now: () => number;
  /** Ends an engineer's channels to one session (a withdrawn grant) unless still allowed; returns how many. */
  endSessionChannels: (engineer: string, sid: string) => Promise<number>;
  /** The same for every session of a ticket (SYSTEM:ID) it was reassigned away from the engineer. */
  endTicketChannels: (engineer: string, ticket: string) => Promise<number>;
  /** Sessions the engineer has channels to on this relay (re-checked after a missed announcement). */
  sessionsWithChannels: (engineer: string) => string[];
}

export class EngineerRoster {
  private readonly byName = new Map<string, Set<EngineerLink>>();
  private readonly subscription: ChannelSubscription;

  constructor(private readonly deps: RosterDeps) {
    this.subscription = new ChannelSubscription(deps, 'engineer roster', { onMessage: (raw) => this.onMessage(raw), reconcile: () => this.reconcile() });
  }

  add(link: EngineerLink): void {
    let links = this.byName.get(link.name);
    if (!links) this.byName.set(link.name, (links = new Set()));
    links.add(link);
    link.conn.once('close', () => {
      links.delete(link);
      if (links.size === 0 && this.byName.get(link.name) === links) this.byName.delete(link.name);
    });
  }

  start(): Promise<void> {
    return this.subscription.start();
  }

  close(): Promise<void> {
    return this.subscription.close();
  }

  /** Ends the connections a revocation covers; returns how many. */
  revoke(rev: EngineerRevocation, why: string): number {
    const links = [...(this.byName.get(rev.engineer) ?? [])].filter((l) => !rev.fingerprints || rev.fingerprints.includes(l.fingerprint));
    for (const link of links) {
      this.deps.logger.info({ engineer: link.name, fingerprint: link.fingerprint, why }, 'engineer connection ended: access withdrawn');
      link.conn.end();
      void this.deps.audit
        .append('engineer.disconnected', { engineer: link.name, fingerprint: link.fingerprint, reason: why, actor: `relay:${this.deps.relayId}` }, this.deps.now())
        .catch((err: unknown) => this.deps.logger.error({ err }, 'audit append failed'));
    }
    return links.length;
  }

  private onMessage(raw: string): void {
    let parsed;
    try {
      parsed = engineerRevocationSchema.safeParse(JSON.parse(raw));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const rev = parsed.data;
    if (rev.ticket) {
      const ending = this.deps.endTicketChannels(rev.engineer, rev.ticket);
      return this.logEnded(ending, rev.engineer, { ticket: rev.ticket }, 'ticket reassigned', 'could not end channels of a reassigned ticket');
    }
    if (rev.sid) {
      const ending = this.deps.endSessionChannels(rev.engineer, rev.sid);
      return this.logEnded(ending, rev.engineer, { sid: rev.sid }, 'grant withdrawn', 'could not end channels of a withdrawn grant');
    }
    this.revoke(rev, rev.fingerprints ? 'key removed' : 'engineer removed');
  }

  /** Logs what ending some of an engineer's channels (`scope`) came to: `why` when any ended, `failed` when it could not. */
  private logEnded(ending: Promise<number>, engineer: string, scope: { ticket: string } | { sid: string }, why: string, failed: string): void {
    void ending
      .then((ended) => ended > 0 && this.deps.logger.info({ engineer, ...scope, ended }, `engineer channels ended: ${why}`))
      .catch((err: unknown) => this.deps.logger.error({ err, ...scope }, failed));
  }

  /**
   * Ends every connection whose engineer or key is no longer registered, and every channel to a
   * session its engineer may no longer reach (a withdrawn grant or a reassignment announced while
   * the subscriber was away).
   */
  async reconcile(): Promise<void> {
    for (const name of [...this.byName.keys()]) {
      const engineer = await this.deps.engineers.get(name);
      if (!engineer) {
        this.revoke({ engineer: name }, 'engineer removed');
        continue;
      }
      const registered = new Set(engineer.keys.map((k) => k.fingerprint));
      const stale = [...(this.byName.get(name) ?? [])].map((l) => l.fingerprint).filter((f) => !registered.has(f));
      if (stale.length > 0) this.revoke({ engineer: name, fingerprints: stale }, 'key removed');
      for (const sid of this.deps.sessionsWithChannels(name)) {
        this.logEnded(this.deps.endSessionChannels(name, sid), name, { sid }, 'access withdrawn while the relay was not listening', 'could not re-check channels');
      }
    }
  }
}
