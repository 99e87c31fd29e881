// The ticket's subject travels with the provisioning (webhook → ticket-events → key-issue → the
// session) and the operator API shows it in SessionView, with no link for the generic help desk.
// An event announces the new session on the events channel as soon as the key is issued.
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { parseSessionEvent, type SessionEventMessage } from '../../shared/store/session-events.js';
import { ADMIN_TOKEN, postWebhook, webhookBody } from './helpers/pipeline-harness.js';
import { usePipelineHarness } from './helpers/pipeline-fixture.js';
import { waitFor } from './helpers/wait.js';

const h = usePipelineHarness();

describe('ticket subject', () => {
  it("a ticket that provisions a session gives it the ticket's subject, and the issue is published as an event", async () => {
    const sub = new Redis(inject('redisUrl'));
    const events: SessionEventMessage[] = [];
    sub.on('message', (_c, m) => {
      const e = parseSessionEvent(m);
      if (e?.serial === 'SN-SUBJECT-1') events.push(e);
    });
    await sub.subscribe(h.sessions.keys.events);
    try {
      const body = webhookBody({ id: 'evt-subject-1', ticketId: '8101', serial: 'SN-SUBJECT-1', email: 'subject@customer.example' });
      (body.ticket as { subject: string }).subject = '<b>Inventory</b> page is blank';
      expect((await postWebhook(h.apiUrl, body)).status).toBe(202);
      const session = await waitFor(async () => (await h.sessions.list()).find((s) => s.serial === 'SN-SUBJECT-1'), { label: 'session provisioned' });
      expect(session.ticketSubject).toBe('<b>Inventory</b> page is blank');

      const res = await fetch(`${h.apiUrl}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const { session: view } = (await res.json()) as { session: { ticket: unknown } };
      expect(view.ticket).toEqual({ system: 'generic', id: '8101', subject: '<b>Inventory</b> page is blank', url: null });

      await waitFor(() => events.length > 0, { label: 'issued event' });
      expect(events[0]).toEqual({ sid: session.id, serial: 'SN-SUBJECT-1', to: 'ISSUED', outcome: 'issued', at: session.issuedAt });
    } finally {
      sub.disconnect();
    }
  });
});
