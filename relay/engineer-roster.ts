// Live engineer connections on this relay, by engineer name, with the key each one used. When an
// engineer (or one key) is removed, every relay ends the matching connections, and with them every
// channel they carry; after a missed announcement (subscriber reconnect) the roster is re-checked.
import type { Connection } from 'ssh2';
import type { Logger } from '../shared/logger.js';
import type { AuditLog } from '../shared/store/audit.store.js';
import { engineerRevocationSchema, type EngineerRevocation, type EngineerDirectory } from '../shared/store/engineer.store.js';
import type { Redis } from 'ioredis';

export interface EngineerLink {
  name: string;
  fingerprint: string;
  conn: Connection;
}

export interface RosterDeps {
  subscriber: Redis;
  /** The channel engineer withdrawals are announced on. */
  channel: string;
  engineers: EngineerDirectory;
  audit: AuditLog;
  relayId: string;
  now: () => number;
  logger: Logger;
  /** Ends an engineer's channels to one session (a withdrawn grant) unless still allowed; returns how many. */
  endSessionChannels: (engineer: string, sid: string) => Promise<number>;
  /** The same for every session of a ticket (SYSTEM:ID) it was reassigned away from the engineer. */
  endTicketChannels: (engineer: string, ticket: string) => Promise<number>;
}

export class EngineerRoster {
  private readonly byName = new Map<string, Set<EngineerLink>>();
  private started = false;

  constructor(private readonly deps: RosterDeps) {}

  add(link: EngineerLink): void {
    let links = this.byName.get(link.name);
    if (!links) this.byName.set(link.name, (links = new Set()));
    links.add(link);
    link.conn.once('close', () => {
      links.delete(link);
      if (links.size === 0 && this.byName.get(link.name) === links) this.byName.delete(link.name);
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.deps.subscriber.on('message', this.onMessage);
    await this.deps.subscriber.subscribe(this.deps.channel);
    this.deps.subscriber.on('ready', this.onReconnect);
  }

  async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.deps.subscriber.off('message', this.onMessage);
    this.deps.subscriber.off('ready', this.onReconnect);
    await this.deps.subscriber.unsubscribe(this.deps.channel).catch(() => undefined);
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

  private readonly onMessage = (channel: string, raw: string): void => {
    if (channel !== this.deps.channel) return;
    let parsed;
    try {
      parsed = engineerRevocationSchema.safeParse(JSON.parse(raw));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const rev = parsed.data;
    if (rev.ticket) {
      void this.deps
        .endTicketChannels(rev.engineer, rev.ticket)
        .then((ended) => ended > 0 && this.deps.logger.info({ engineer: rev.engineer, ticket: rev.ticket, ended }, 'engineer channels ended: ticket reassigned'))
        .catch((err: unknown) => this.deps.logger.error({ err, ticket: rev.ticket }, 'could not end channels of a reassigned ticket'));
      return;
    }
    if (rev.sid) {
      void this.deps
        .endSessionChannels(rev.engineer, rev.sid)
        .then((ended) => ended > 0 && this.deps.logger.info({ engineer: rev.engineer, sid: rev.sid, ended }, 'engineer channels ended: grant withdrawn'))
        .catch((err: unknown) => this.deps.logger.error({ err, sid: rev.sid }, 'could not end channels of a withdrawn grant'));
      return;
    }
    this.revoke(rev, rev.fingerprints ? 'key removed' : 'engineer removed');
  };

  private readonly onReconnect = (): void => {
    void this.reconcile().catch((err: unknown) => this.deps.logger.error({ err }, 'engineer roster reconcile failed'));
  };

  /** Ends every connection whose engineer or key is no longer registered. */
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
    }
  }
}
