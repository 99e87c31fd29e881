// A help desk's assignee decides who reaches the ticket's session (TETHER_ENGINEER_POLICY=assigned):
// signed GitHub deliveries through the real webhook route and ticket-events worker, with Redis,
// and the answer the relay gets from the access store on every channel open.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SessionRecord } from '../../shared/session/session.schema.js';
import { AccessStore, helpDeskIdentity } from '../../shared/store/access.store.js';
import { waitFor } from '../pipeline/helpers/wait.js';
import { startTicketingHarness, type TicketingHarness } from './helpers/ticketing-harness.js';
import { gitHubDelivery, type TicketFacts } from './helpers/vendor-cases.js';

let h: TicketingHarness;
let access: AccessStore;

beforeAll(async () => {
  h = await startTicketingHarness({ redisUrl: inject('redisUrl') });
  access = new AccessStore(h.redis, h.prefix);
});
afterAll(async () => {
  await h?.close();
});

const assignTo = (...logins: string[]) => (issue: { assignee: unknown; assignees: unknown[] }) => {
  issue.assignees = logins.map((login, i) => ({ login, id: 7_000 + i, type: 'User' }));
  issue.assignee = issue.assignees[0] ?? null;
};

describe('GitHub issue assignee', () => {
  it('lets the engineer mapped to the assignee\'s login reach the session and no one else, following assigned and unassigned', async () => {
    await access.mapIdentity(helpDeskIdentity('github', 'Erin-GH'), 'erin');
    const t: TicketFacts = { seed: 9_801, serial: 'SN-GH-ASSIGNEE', email: 'it-gh-assignee@customer.example' };
    const post = async (action: string, ...logins: string[]) => expect((await h.post('github', gitHubDelivery(t, action, assignTo(...logins)))).status).toBe(202);
    let session: SessionRecord | undefined;
    const reaches = async (engineer: string) => access.allowed(session!, engineer, 'assigned');

    // Opened assigned to a login nobody mapped: the assignment is recorded before the key is issued.
    await post('opened', 'mallory-gh');
    session = await waitFor(async () => (await h.sessions.list()).find((s) => s.serial === t.serial), { label: 'the session' });
    expect(session.ticket).toEqual({ system: 'github', id: `acme/support#${t.seed}` });
    expect(await reaches('erin')).toBeNull();

    // Logins compare case-insensitively; otto has no mapping at all.
    await post('assigned', 'erin-gh', 'mallory-gh');
    await waitFor(async () => (await reaches('erin')) === 'assignee', { label: 'erin allowed as the assignee' });
    expect(await reaches('otto')).toBeNull();
    expect(await access.assignee(session.ticket!)).toBe('erin');

    await post('unassigned');
    await waitFor(async () => (await reaches('erin')) === null, { label: 'erin no longer allowed' });
    expect(await access.assignee(session.ticket!)).toBeNull();
  });
});
