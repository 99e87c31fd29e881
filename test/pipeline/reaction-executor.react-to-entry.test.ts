// The workers' reactions on the in-memory stores (no Redis, no queues): audit entries written by a
// real session lifecycle are carried out against the stores, and the jobs they ask for are recorded
// by a fake producer. What the reactions decide is session-reactions.ts's; this checks that each
// decision reaches the right store or queue.
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryKeyTextStore } from '../../queues/memory-key-text.store.js';
import type { AuditEntry } from '../../shared/store/audit.store.js';
import { MemoryApplianceStore } from '../../shared/store/memory/memory-appliance.store.js';
import { MemoryAuditLog } from '../../shared/store/memory/memory-audit.store.js';
import { MemorySessionStore } from '../../shared/store/memory/memory-session.store.js';
import { reactToEntry, type ReactionDeps } from '../../workers/reaction-executor.js';

const T0 = 1_700_000_000_000;
const SID = 's-react-0001';
const SERIAL = 'K1000-REACT';
const TICKET = { system: 'generic', id: '4711' };
const HOUR = 3_600_000;

let audit: MemoryAuditLog;
let sessions: MemorySessionStore;
let keyTexts: MemoryKeyTextStore;
let appliances: MemoryApplianceStore;
let jobs: string[];
let destroyed: string[];
let deps: ReactionDeps;
/** The last entry reacted to. */
let seen: string | undefined;

beforeEach(async () => {
  audit = new MemoryAuditLog();
  sessions = new MemorySessionStore(audit);
  keyTexts = new MemoryKeyTextStore(() => T0);
  appliances = new MemoryApplianceStore();
  jobs = [];
  destroyed = [];
  seen = undefined;
  const producers: ReactionDeps['producers'] = {
    scheduleExpiry: async (s, plan, _now, opts) => (jobs.push(`expiry ${s.id} ${plan.map((p) => p.kind).join(',')}${opts?.replace ? ' replace' : ''}`), []),
    cancelExpiry: async (sid) => void jobs.push(`cancel-expiry ${sid}`),
    ticketComment: async (ticket, body, jobId) => (jobs.push(`comment ${ticket.system}:${ticket.id} ${jobId}`), body),
    notification: async (input, jobId) => (jobs.push(`mail ${input.template} ${input.to.join(',')} ${jobId}`), jobId),
  };
  deps = { sessions, keyTexts, producers, appliances, credentials: { destroy: async (sid) => (destroyed.push(sid), true) }, now: () => T0, warnOffsetsMs: [HOUR] };
  await sessions.create({ id: SID, jti: 'j-react-0001', serial: SERIAL, product: 'sma', ports: [22], tunnelPub: randomBytes(32), issuedAt: T0, expiresAt: T0 + 2 * HOUR, ticket: TICKET, email: 'it-ops@customer.example' }, 'op');
  await keyTexts.put(SID, 'KT1.text.sig', T0 + 2 * HOUR, T0);
  await appliances.pushKey(SERIAL, { sid: SID, key: 'KT1.text.sig', issuedAt: T0, expiresAt: T0 + 2 * HOUR, ticket: TICKET }, T0);
  await appliances.rememberTicket(SERIAL, TICKET, HOUR);
});

/** Reacts to every audit entry not yet reacted to, in order. */
async function reactToNew(): Promise<AuditEntry[]> {
  const fresh = await audit.list(seen ? { after: seen } : {});
  for (const e of fresh) await reactToEntry(e, deps);
  seen = fresh.at(-1)?.id ?? seen;
  return fresh;
}

describe('reactions to audit entries', () => {
  it('plans the expiry of an issued session: its first warning', async () => {
    await reactToNew();
    expect(jobs).toEqual([`expiry ${SID} warn`]);
  });

  it('on activation comments and mails "connected" and takes the used key out of the appliance inbox', async () => {
    await reactToNew();
    jobs = [];
    await sessions.activate(SID, randomBytes(32), { actor: 'relay:r1', relayId: 'r1', now: T0 + 1 });
    const [activated] = await reactToNew();
    expect(jobs.map((j) => j.split(' ').slice(0, 2).join(' '))).toEqual(['comment generic:4711', 'mail connected']);
    // Job ids derive from the entry: reacting to it again queues nothing new.
    expect(jobs.every((j) => j.includes(activated!.id))).toBe(true);
    expect(await appliances.inbox(SERIAL, T0)).toEqual([]);
    expect(await keyTexts.get(SID)).toBe('KT1.text.sig'); // not delivered yet: the key text stays until close or delivery
  });

  it('on a ticket close after use tears everything down: expiry, key text, comment, mail, password, inbox, open ticket', async () => {
    await sessions.activate(SID, randomBytes(32), { actor: 'relay:r1', now: T0 + 1 });
    await reactToNew();
    jobs = [];
    await sessions.close(SID, 'ticket_closed', 'ticket:generic:4711', T0 + 2);
    await reactToNew();
    expect(jobs.map((j) => j.split(' ').slice(0, 2).join(' '))).toEqual([`cancel-expiry ${SID}`, 'comment generic:4711', 'mail closed']);
    expect(await keyTexts.get(SID)).toBeNull();
    expect(destroyed).toEqual([SID]);
    expect(await appliances.openTicket(SERIAL)).toBeNull();
  });

  it('closes a key nobody received without telling the customer, and keeps the open ticket unless the ticket closed', async () => {
    await reactToNew();
    jobs = [];
    await sessions.close(SID, 'superseded', 'op', T0 + 2);
    await reactToNew();
    expect(jobs).toEqual([`cancel-expiry ${SID}`]);
    expect(await keyTexts.get(SID)).toBeNull();
    expect(destroyed).toEqual([SID]);
    expect(await appliances.inbox(SERIAL, T0)).toEqual([]);
    expect(await appliances.openTicket(SERIAL)).toEqual(TICKET);
  });

  it('tells the customer of a close when the key mail went out, even if it was never used', async () => {
    await keyTexts.recordDelivered(SID, 'email', T0 + 2 * HOUR, T0);
    await reactToNew();
    jobs = [];
    await sessions.close(SID, 'revoked', 'op', T0 + 2);
    await reactToNew();
    expect(jobs.map((j) => j.split(' ').slice(0, 2).join(' '))).toEqual([`cancel-expiry ${SID}`, 'comment generic:4711', 'mail closed']);
  });

  it('plans the expiry again when it moves, replacing the earlier plan', async () => {
    await reactToNew();
    jobs = [];
    await sessions.extend(SID, T0 + 5 * HOUR, 'op', T0 + 3);
    await reactToNew();
    expect(jobs).toEqual([`expiry ${SID} warn replace`]);
  });

  it('does nothing for entries that are no session transition or name no session', async () => {
    await reactToNew();
    jobs = [];
    await audit.append('engineer.channel.opened', { engineer: 'alice', sid: SID }, T0 + 4);
    await audit.append('session.closed', { serial: SERIAL }, T0 + 5);
    await reactToNew();
    expect(jobs).toEqual([]);
    expect(destroyed).toEqual([]);
  });
});
