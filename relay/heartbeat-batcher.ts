// Every flush interval: one batched last-seen write for all live tunnels on this relay (never one
// write per tunnel), and expiry of tunnels whose session deadline has passed.
import { isAppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { SessionStore } from '../shared/store/session.store.js';
import type { ApplianceRegistry, Tunnel } from './appliance-registry.js';

export interface HeartbeatDeps {
  sessions: SessionStore;
  registry: ApplianceRegistry;
  flushMs: number;
  actor: string;
  now: () => number;
  logger: Logger;
}

export class HeartbeatBatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: HeartbeatDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.flushMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One flush; a tick that finds the previous flush still running is skipped. */
  private tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.flush()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'heartbeat flush failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async flush(): Promise<void> {
    const now = this.deps.now();
    const ids: string[] = [];
    const due: Tunnel[] = [];
    for (const t of this.deps.registry.values()) {
      if (t.connected && !t.ended) ids.push(t.sid);
      if (t.expiresAt <= now) due.push(t);
    }
    await this.deps.sessions.touch(ids, now);
    for (const t of due) await this.expire(t, now);
  }

  private async expire(t: Tunnel, now: number): Promise<void> {
    const s = await this.deps.sessions.get(t.sid);
    if (s && s.state !== 'CLOSED' && s.expiresAt > now) {
      t.expiresAt = s.expiresAt; // extended by an operator since the appliance connected
      return;
    }
    if (s && s.state !== 'CLOSED') {
      try {
        await this.deps.sessions.close(t.sid, 'expired', this.deps.actor, now);
        this.deps.logger.info({ sid: t.sid, serial: t.serial }, 'session expired');
      } catch (err) {
        if (!isAppError(err, 'session_closed')) throw err;
      }
    }
    // The CLOSED event tears down too; ending here as well keeps expiry independent of pub/sub.
    this.deps.registry.end(t, 'closed');
  }
}
