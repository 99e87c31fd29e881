// One contract, two implementations: the same cases run against the Redis session store (real
// Redis, a random prefix) and the in-memory one the unit tests use, so the memory store cannot
// drift from the rules the Redis scripts apply.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { AuditLog } from '../../shared/store/audit.store.js';
import { compareAuditIds, MemoryAuditLog } from '../../shared/store/memory/memory-audit.store.js';
import { MemorySessionStore } from '../../shared/store/memory/memory-session.store.js';
import { RedisAuditLog } from '../../shared/store/redis-audit.store.js';
import { redisKeys } from '../../shared/store/redis-keys.js';
import { RedisSessionStore } from '../../shared/store/redis-session.store.js';
import { parseSessionEvent, type SessionEventMessage } from '../../shared/store/session-events.js';
import type { NewSession, SessionStore } from '../../shared/store/session.store.js';
import { deletePrefix, randomPrefix } from '../helpers/redis-prefix.js';

interface Subject {
  sessions: SessionStore;
  audit: AuditLog;
  /** Every event announced since the subject opened, as received. */
  events: SessionEventMessage[];
  close(): Promise<void>;
}

const IMPLEMENTATIONS: Record<string, () => Promise<Subject>> = {
  redis: async () => {
    const prefix = randomPrefix();
    const redis = new Redis(inject('redisUrl'));
    const sub = new Redis(inject('redisUrl'));
    const events: SessionEventMessage[] = [];
    sub.on('message', (_channel, raw: string) => {
      const ev = parseSessionEvent(raw);
      if (ev) events.push(ev);
    });
    await sub.subscribe(redisKeys(prefix).events);
    return {
      sessions: new RedisSessionStore(redis, prefix),
      audit: new RedisAuditLog(redis, prefix),
      events,
      async close() {
        sub.disconnect();
        await deletePrefix(redis, prefix);
        redis.disconnect();
      },
    };
  },
  memory: async () => {
    const audit = new MemoryAuditLog();
    const sessions = new MemorySessionStore(audit);
    const events: SessionEventMessage[] = [];
    sessions.subscribe((ev) => events.push(ev));
    return { sessions, audit, events, close: async () => undefined };
  },
};

const T0 = 1_700_000_000_000;

function newSession(serial: string, at = T0): NewSession {
  return {
    id: `s-${randomBytes(6).toString('hex')}`,
    jti: `j-${randomBytes(6).toString('hex')}`,
    serial,
    product: 'sma',
    ports: [22, 443],
    tunnelPub: randomBytes(32),
    issuedAt: at,
    expiresAt: at + 3_600_000,
    ticket: { system: 'generic', id: '4711' },
    ticketSubject: 'Inventory page is blank',
  };
}

describe.each(Object.keys(IMPLEMENTATIONS))('%s session store', (name) => {
  let s: Subject;
  beforeEach(async () => {
    s = await IMPLEMENTATIONS[name]!();
  });
  afterEach(() => s.close());

  const outcomes = () => s.events.map((e) => e.outcome);
  const auditOf = async (sid: string) => (await s.audit.list()).filter((e) => e.fields.sid === sid);

  it('creates an ISSUED session, indexed by serial (any case) and by its tunnel credential, audited and announced', async () => {
    const n = newSession('SN-C-1');
    expect(await s.sessions.create(n, 'op')).toBeUndefined();
    const stored = await s.sessions.get(n.id);
    expect(stored).toMatchObject({ id: n.id, state: 'ISSUED', serial: 'SN-C-1', ports: [22, 443], ticket: { system: 'generic', id: '4711' }, ticketSubject: 'Inventory page is blank' });
    expect(stored?.activatedAt).toBeUndefined();
    expect((await s.sessions.findLiveBySerial('sn-c-1'))?.id).toBe(n.id);
    expect((await s.sessions.findByCredential(n.tunnelPub))?.id).toBe(n.id);
    expect(await s.sessions.get('s-missing')).toBeNull();
    await expect(s.sessions.require('s-missing')).rejects.toMatchObject({ code: 'session_not_found' });
    expect((await auditOf(n.id)).map((e) => [e.type, e.fields.actor, e.at])).toEqual([['session.issued', 'op', T0]]);
    await expect.poll(() => s.events).toEqual([{ sid: n.id, serial: 'SN-C-1', to: 'ISSUED', outcome: 'issued', at: T0 }]);
  });

  it('reports the live session a new one for the same serial displaces, and lists newest first', async () => {
    const first = newSession('SN-C-2', T0);
    const second = newSession('SN-C-2', T0 + 1_000);
    await s.sessions.create(first, 'op');
    expect(await s.sessions.create(second, 'op')).toBe(first.id);
    expect((await s.sessions.findLiveBySerial('SN-C-2'))?.id).toBe(second.id);
    expect((await s.sessions.list()).map((r) => r.id)).toEqual([second.id, first.id]);
    expect((await s.sessions.list(1)).map((r) => r.id)).toEqual([second.id]);
  });

  it('finds every live session of a ticket whatever its serial, and forgets each once it closes', async () => {
    const a = newSession('SN-C-T1', T0);
    const b = { ...newSession('SN-C-T2', T0 + 1_000) };
    const other = { ...newSession('SN-C-T3'), ticket: { system: 'generic', id: '4712' } };
    const none = { ...newSession('SN-C-T4'), ticket: undefined };
    for (const n of [a, b, other, none]) await s.sessions.create(n, 'op');
    const ids = async (id: string) => (await s.sessions.findLiveByTicket({ system: 'generic', id })).map((r) => r.id).sort();
    expect(await ids('4711')).toEqual([a.id, b.id].sort());
    await s.sessions.close(a.id, 'ticket_closed', 'op', T0 + 2_000);
    expect(await ids('4711')).toEqual([b.id]);
    expect(await ids('4712')).toEqual([other.id]);
  });

  it('activates exactly once of 20 concurrent racers, binding the winner\'s appliance key', async () => {
    const n = newSession('SN-C-3');
    await s.sessions.create(n, 'op');
    const keys = Array.from({ length: 20 }, () => randomBytes(32));
    const results = await Promise.allSettled(keys.map((k) => s.sessions.activate(n.id, k, { actor: 'relay:r1', relayId: 'r1', now: T0 + 5 })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect(results[won[0]!]).toMatchObject({ value: { from: 'ISSUED', to: 'CONNECTED', outcome: 'activated' } });
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(Array(19).fill('key_already_used'));
    const winner = keys[won[0]!]!;
    expect(await s.sessions.get(n.id)).toMatchObject({ state: 'CONNECTED', appliancePub: winner.toString('base64'), activatedAt: T0 + 5, connectedAt: T0 + 5, relayId: 'r1' });
    expect((await s.sessions.findByCredential(winner))?.id).toBe(n.id);
    for (const [i, k] of keys.entries()) if (i !== won[0]) expect(await s.sessions.findByCredential(k)).toBeNull();
    expect((await auditOf(n.id)).filter((e) => e.type === 'session.activated')).toHaveLength(1);
    await expect.poll(outcomes).toEqual(['issued', 'activated']);
    expect(s.events[1]).toMatchObject({ from: 'ISSUED', to: 'CONNECTED', relay: 'r1' });
  });

  it('allows connect, lose and close only from their source states, audits each legal step in order and refuses the rest', async () => {
    const n = newSession('SN-C-4');
    await s.sessions.create(n, 'op');
    const at = (dt: number) => ({ actor: 'relay:r1', now: T0 + dt });
    // Out of ISSUED only activation leads; nothing changes on a refusal.
    await expect(s.sessions.apply(n.id, 'connect', at(1))).rejects.toMatchObject({ code: 'illegal_transition' });
    await expect(s.sessions.apply(n.id, 'lose', at(1))).rejects.toMatchObject({ code: 'illegal_transition' });
    expect((await s.sessions.get(n.id))?.state).toBe('ISSUED');

    await s.sessions.activate(n.id, randomBytes(32), at(2));
    await expect(s.sessions.activate(n.id, randomBytes(32), at(3))).rejects.toMatchObject({ code: 'key_already_used' });
    expect(await s.sessions.apply(n.id, 'lose', at(4))).toEqual({ from: 'CONNECTED', to: 'LOST', outcome: 'lost' });
    await expect(s.sessions.apply(n.id, 'lose', at(5))).rejects.toMatchObject({ code: 'illegal_transition' });
    expect(await s.sessions.apply(n.id, 'connect', at(6))).toEqual({ from: 'LOST', to: 'CONNECTED', outcome: 'reconnected' });
    expect(await s.sessions.close(n.id, 'revoked', 'op', T0 + 7)).toEqual({ from: 'CONNECTED', to: 'CLOSED', outcome: 'closed' });
    expect(await s.sessions.get(n.id)).toMatchObject({ state: 'CLOSED', reason: 'revoked', closedAt: T0 + 7 });
    expect(await s.sessions.findLiveBySerial('SN-C-4')).toBeNull();

    await expect(s.sessions.apply(n.id, 'connect', at(8))).rejects.toMatchObject({ code: 'session_closed' });
    await expect(s.sessions.activate(n.id, randomBytes(32), at(8))).rejects.toMatchObject({ code: 'session_closed' });
    await expect(s.sessions.close(n.id, 'expired', 'op', T0 + 8)).rejects.toMatchObject({ code: 'session_closed' });
    await expect(s.sessions.apply('s-missing', 'lose', at(8))).rejects.toMatchObject({ code: 'session_not_found' });
    await expect(s.sessions.close('s-missing', 'revoked', 'op', T0 + 8)).rejects.toMatchObject({ code: 'session_not_found' });

    const entries = await auditOf(n.id);
    expect(entries.map((e) => [e.type, e.fields.from ?? '', e.fields.to ?? '', e.fields.reason ?? ''])).toEqual([
      ['session.issued', '', '', ''],
      ['session.activated', 'ISSUED', 'CONNECTED', ''],
      ['session.lost', 'CONNECTED', 'LOST', ''],
      ['session.reconnected', 'LOST', 'CONNECTED', ''],
      ['session.closed', 'CONNECTED', 'CLOSED', 'revoked'],
    ]);
    expect(entries.slice(1).every((e, i) => compareAuditIds(entries[i]!.id, e.id) < 0)).toBe(true);
    await expect.poll(outcomes).toEqual(['issued', 'activated', 'lost', 'reconnected', 'closed']);
    expect(s.events.at(-1)).toMatchObject({ sid: n.id, serial: 'SN-C-4', from: 'CONNECTED', to: 'CLOSED', reason: 'revoked', at: T0 + 7 });
  });

  it('extends a live session (audited, announced) and refuses to extend a closed one, changing nothing', async () => {
    const n = newSession('SN-C-5');
    await s.sessions.create(n, 'op');
    const later = n.expiresAt + 86_400_000;
    expect(await s.sessions.extend(n.id, later, 'op', T0 + 10)).toMatchObject({ id: n.id, expiresAt: later });
    expect((await s.sessions.get(n.id))?.expiresAt).toBe(later);
    await s.sessions.close(n.id, 'revoked', 'op', T0 + 11);
    await expect(s.sessions.extend(n.id, later + 1_000, 'op', T0 + 12)).rejects.toMatchObject({ code: 'session_closed' });
    await expect(s.sessions.extend('s-missing', later, 'op', T0 + 12)).rejects.toMatchObject({ code: 'session_not_found' });
    expect((await s.sessions.get(n.id))?.expiresAt).toBe(later);
    expect((await auditOf(n.id)).filter((e) => e.type === 'session.extended').map((e) => e.fields.expiresAt)).toEqual([String(later)]);
    await expect.poll(outcomes).toEqual(['issued', 'extended', 'closed']);
    expect(s.events[1]).toMatchObject({ from: 'ISSUED', to: 'ISSUED', expiresAt: later, at: T0 + 10 });
  });

  it('a close conditioned on the expiry its caller read is refused once an extension moved it, changing nothing', async () => {
    const n = newSession('SN-C-9');
    await s.sessions.create(n, 'op');
    const later = n.expiresAt + 60_000;
    await s.sessions.extend(n.id, later, 'op', T0 + 10);
    const expire = (expiresAt: number) => s.sessions.apply(n.id, 'close', { actor: 'expiry', reason: 'expired', now: T0 + 20, expiresAt });
    await expect(expire(n.expiresAt)).rejects.toMatchObject({ code: 'session_expiry_moved' });
    expect(await s.sessions.get(n.id)).toMatchObject({ state: 'ISSUED', expiresAt: later });
    expect((await auditOf(n.id)).map((e) => e.type)).toEqual(['session.issued', 'session.extended']);
    await expire(later);
    expect(await s.sessions.get(n.id)).toMatchObject({ state: 'CLOSED', reason: 'expired' });
  });

  it('keeps heartbeats of live sessions only: stale ones by time, and no touch revives a LOST or CLOSED one', async () => {
    const [a, b, c] = [newSession('SN-C-6'), newSession('SN-C-7'), newSession('SN-C-8')];
    for (const n of [a, b, c]) {
      await s.sessions.create(n, 'op');
      await s.sessions.activate(n.id, randomBytes(32), { actor: 'relay', now: 1_000 });
    }
    await s.sessions.touch([b.id], 5_000);
    await s.sessions.apply(c.id, 'lose', { actor: 'monitor', now: 1_500 });
    await s.sessions.touch([c.id, 'no-such-session'], 6_000);
    expect(await s.sessions.stale(3_000)).toEqual([a.id]);
    expect(await s.sessions.stale(7_000)).toEqual([a.id, b.id]);
    await s.sessions.close(a.id, 'revoked', 'op', 7_000);
    await s.sessions.touch([a.id], 8_000);
    expect(await s.sessions.stale(10_000)).toEqual([b.id]);
  });
});
