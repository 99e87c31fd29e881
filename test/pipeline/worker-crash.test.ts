// Workers in a child process killed with SIGKILL mid key mail: after restart the key-issue job adopts the
// session it minted and completes: one key, one mail.
import type { ChildProcess } from 'node:child_process';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jobIds } from '../../queues/job-ids.js';
import { QUEUE } from '../../queues/queue-names.js';
import { postWebhook, startHarness, webhookBody, type Harness } from './helpers/pipeline-harness.js';
import { settle, waitFor } from './helpers/wait.js';
import { startWorkerProcess } from './helpers/worker-process.js';

const REQUESTER = 'crash@customer.example';
let h: Harness;
let smtp: SMTPServer;
let smtpUrl: string;
const stored: { to: string[]; raw: string }[] = [];
let holdFirst = true;
let onHeld: (() => void) | undefined;
let decide: ((accept: boolean) => void) | undefined;

/** An SMTP server that holds the first key mail's final reply until the test decides. */
async function startGatedSmtp(): Promise<void> {
  smtp = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    logger: false,
    closeTimeout: 500,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        if (holdFirst && to.includes(REQUESTER)) {
          holdFirst = false;
          const accept = await new Promise<boolean>((resolve) => {
            decide = resolve;
            onHeld?.();
          });
          if (!accept) return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        }
        stored.push({ to, raw: Buffer.concat(chunks).toString() });
        callback(null);
      });
    },
  });
  smtp.on('error', () => undefined);
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
}

function startChild(): Promise<ChildProcess> {
  return startWorkerProcess(h, { SMTP_URL: smtpUrl });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  h = await startHarness({ redisUrl: inject('redisUrl'), workers: false });
  await startGatedSmtp();
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  await h?.close();
});

describe('worker crash', () => {
  it('a worker process killed with SIGKILL in the middle of sending the key mail: after restart the job completes, one key, one mail', async () => {
    let child = await startChild();
    const held = new Promise<void>((resolve) => (onHeld = resolve));
    expect((await postWebhook(h.apiUrl, webhookBody({ id: 'evt-crash', ticketId: '9901', serial: 'SN-CRASH', email: REQUESTER }))).status).toBe(202);
    await held; // the key-issue job (which mails the key it minted) is active in the child, its mail waiting for the SMTP reply
    const session = (await h.sessions.list()).find((s) => s.serial === 'SN-CRASH')!;
    const keyJobs = h.producers.queue(QUEUE.keyIssue);
    const keyJobId = jobIds.keyIssue({ system: 'generic', id: '9901' }, 'SN-CRASH');
    expect(await (await keyJobs.getJob(keyJobId))!.getState()).toBe('active');

    await killed(child);
    decide!(false); // the dead client never gets a 250: the mail was not accepted
    expect(stored.filter((m) => m.to.includes(REQUESTER))).toHaveLength(0);

    child = await startChild();
    try {
      await waitFor(() => stored.filter((m) => m.to.includes(REQUESTER)).length === 1, { label: 'key mail after restart', timeoutMs: 15_000 });
      await waitFor(async () => (await keyJobs.getJob(keyJobId))?.finishedOn, { label: 'key job completed' });
      await settle(1_500);
      expect(stored.filter((m) => m.to.includes(REQUESTER))).toHaveLength(1);
      expect(stored.find((m) => m.to.includes(REQUESTER))!.raw).toContain('KT1.');
      expect((await h.sessions.list()).filter((s) => s.serial === 'SN-CRASH')).toHaveLength(1);
      expect(await (await keyJobs.getJob(keyJobId))!.getState()).toBe('completed');
      expect((await keyJobs.getJob(keyJobId))!.returnvalue).toMatchObject({ sid: session.id, adopted: true, mail: 'sent' });
      await waitFor(() => h.comments.comments.find((c) => c.ticket.id === '9901' && /sent to crash@customer\.example/.test(c.body)), { label: 'key-sent comment' });
      // The reactions to the session's audit entries were not lost with the dead process either:
      // the session's next expiry job (its first warning; each warning plans the step after it).
      const expiry = await h.producers.queue(QUEUE.expiry).getJobs(['delayed']);
      expect(expiry.filter((j) => j.data?.sid === session.id).map((j) => [j.data.kind, j.data.offsetMs])).toEqual([['warn', 86_400_000]]);
    } finally {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
  });
});
