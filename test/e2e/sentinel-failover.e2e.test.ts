// Redis high availability, every process real: Debian's redis-server as primary and replica, three
// redis-sentinel, and the tether as two relays, two worker and two API processes that find the
// primary through the sentinels (REDIS_SENTINELS). The primary is killed with SIGKILL in the middle
// of a burst of 200 signed ticket webhooks while appliances hold tunnels: every ticket answered 202
// gets exactly one key mail, the tunnels stay up, and the audit has every transition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMail } from '../../shared/mail/mail-parse.js';
import { signGeneric } from '../../ticketing/generic-signature.js';
import { runSsh } from '../helpers/engineer-ssh.js';
import { useFleetNeighbours } from '../helpers/fleet-neighbours.js';
import { startFleetSystem, type FleetSystem } from '../helpers/fleet-system.js';
import { eventually } from '../helpers/processes.js';
import { startSentinelSet, type SentinelSet } from '../helpers/redis-sentinel.js';
import { simulatedAppliance, type SimulatedAppliance } from '../helpers/tether-system.js';

const SECRET = 'sentinel-webhook-secret-0123456789';
const TICKETS = 200;
const { smtp, comments, sshd, web } = useFleetNeighbours(SECRET);
let set: SentinelSet;
let fleet: FleetSystem;
const appliances = new Set<SimulatedAppliance>();
const keyMails = new Map<string, number>();

beforeAll(async () => {
  set = await startSentinelSet();
  smtp.onMail((m) => {
    if (!parseMail(m.raw).text?.includes('KT1.')) return;
    for (const to of m.to) keyMails.set(to, (keyMails.get(to) ?? 0) + 1);
  });
  fleet = await startFleetSystem(
    { sentinels: set.sentinels, name: set.name },
    {
      relays: 2,
      workers: 2,
      apis: 2,
      env: { SMTP_URL: smtp.url, TETHER_WEBHOOK_SECRET: SECRET, TETHER_TICKET_COMMENT_URL: comments.url, TETHER_COMMENT_BURST: '0', TETHER_LOG_LEVEL: 'error' },
    },
  );
}, 120_000);

afterAll(async () => {
  for (const box of appliances) await box.close();
  await fleet?.close();
  await set?.stop();
}, 60_000);

function webhook(api: string, i: number): Promise<number> {
  const body = JSON.stringify({
    id: `evt-ha-${i}`,
    type: 'ticket.created',
    ticket: {
      id: `HA-${i}`,
      subject: 'Inventory page is blank',
      status: 'open',
      requester: { email: `ha-${i}@customer.example` },
      tags: ['tether'],
      appliance: { serial: `K1000-HA${String(i).padStart(4, '0')}`, product: 'sma', version: '10.1' },
    },
  });
  return fetch(`${api}/v1/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', ...signGeneric(SECRET, body, Date.now()) }, body })
    .then((r) => r.status)
    .catch(() => 0);
}

describe('Redis Sentinel failover under load', () => {
  it('SIGKILL of the primary mid-burst: one key mail per 202 ticket, tunnels stay up, every transition audited', async () => {
    // Tunnels up before the burst.
    const tunnels: { serial: string; sid: string; relayId: string | undefined }[] = [];
    for (const serial of ['K1000-HATUN1', 'K1000-HATUN2']) {
      const issued = await fleet.tether(['key', 'issue', '--serial', serial, '--product', 'sma', '--ttl', '2h', '--json']);
      expect(issued.stderr).toBe('');
      const { id, key } = JSON.parse(issued.stdout) as { id: string; key: string };
      const box = await simulatedAppliance({ home: fleet.home, appliances }, { serial, forwards: { 22: sshd.port, 443: web.port } });
      expect((await box.ktether(['enable', '--key', key])).code).toBe(0);
      tunnels.push({ serial, sid: id, relayId: (await fleet.sessions.require(id)).relayId });
    }
    const firstPrimary = await set.primaryPort();

    // The burst, 20 in flight over both APIs; the primary dies once 60 were answered.
    const statuses: number[] = new Array(TICKETS).fill(-1);
    let next = 0;
    let answered = 0;
    let killed: Promise<number> | undefined;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < TICKETS) {
          const i = next++;
          statuses[i] = await webhook(fleet.apis[i % 2]!.url, i);
          if (++answered === 60) killed = set.killPrimary();
        }
      }),
    );
    expect(await killed).toBe(firstPrimary);
    await eventually(async () => (await set.primaryPort()) !== firstPrimary, 30_000);

    const accepted = statuses.flatMap((s, i) => (s === 202 ? [i] : []));
    // A request cut by the failover is answered 5xx (the help desk retries it), never 2xx without the event.
    expect(statuses.every((s) => s === 202 || s >= 500 || s === 0)).toBe(true);
    expect(accepted.length).toBeGreaterThanOrEqual(TICKETS / 2);
    await eventually(() => accepted.every((i) => keyMails.has(`ha-${i}@customer.example`)), 120_000, 200);
    await new Promise((r) => setTimeout(r, 3_000));
    for (const i of accepted) expect(keyMails.get(`ha-${i}@customer.example`), `ticket HA-${i}`).toBe(1);

    // Every accepted ticket has its session and its audit entry on the new primary.
    const audit = await fleet.audit.list();
    const issued = new Set(audit.filter((e) => e.type === 'session.issued').map((e) => e.fields.serial));
    for (const i of accepted) expect(issued.has(`K1000-HA${String(i).padStart(4, '0')}`), `HA-${i}`).toBe(true);

    // The tunnels never moved or dropped, and still carry engineers.
    for (const t of tunnels) {
      const s = await fleet.sessions.require(t.sid);
      expect(s.state).toBe('CONNECTED');
      expect(s.relayId).toBe(t.relayId);
      const types = audit.filter((e) => e.fields.sid === t.sid && e.type.startsWith('session.')).map((e) => e.type);
      expect(types).toEqual(['session.issued', 'session.activated']);
    }
    const engineer = await fleet.sshConfigFor(1);
    const w = await runSsh(engineer, ['-W', `${tunnels[0]!.serial}:443`, 'tether-relay'], 'after failover');
    expect(w.stdout.toString()).toBe('after failover');
  }, 240_000);
});
