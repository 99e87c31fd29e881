// A whole tether system for one-click tests: `serve --roles api,workers,relay` with the generic
// help desk pointed at a local comment server, an SMTP capture, and appliances enrolled the way a
// customer does it (`tether appliance token`, then `ktether enroll --api URL --token T`).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSmtpCapture, type SmtpCapture } from '../../../shared/mail/smtp-capture.js';
import { freePort } from '../../helpers/redis-server.js';
import { simulatedAppliance, startTetherSystem, type SimulatedAppliance, type TetherSystem } from '../../helpers/tether-system.js';
import { startCommentServer, type CommentServer } from '../../pipeline/helpers/comment-server.js';

export const SECRET = 'oneclick-webhook-secret-0123456789';

export interface OneClickSystem {
  system: TetherSystem;
  comments: CommentServer;
  apiUrl: string;
  close(): Promise<void>;
}

export async function startOneClickSystem(redisUrl: string): Promise<OneClickSystem> {
  const smtp: SmtpCapture = createSmtpCapture({ outboxDir: join(mkdtempSync(join(tmpdir(), 'tether-smtp-')), 'outbox') });
  await smtp.start();
  const comments = await startCommentServer(SECRET);
  const apiPort = await freePort();
  const system = await startTetherSystem(
    redisUrl,
    {
      SMTP_URL: smtp.url,
      TETHER_API_PORT: String(apiPort),
      TETHER_WEBHOOK_SECRET: SECRET,
      TETHER_ADMIN_TOKEN: 'oneclick-admin-token-0123456789',
      TETHER_TICKET_COMMENT_URL: comments.url,
      // Each comment at once: the tests wait for them one by one.
      TETHER_COMMENT_BURST: '0',
    },
    'api,workers,relay',
  );
  return {
    system,
    comments,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    async close() {
      await system.close();
      await comments.close();
      await smtp.close();
    },
  };
}

export interface ApplianceSpec {
  serial: string;
  product: 'sma' | 'sda';
  version: string;
  forwards: Record<number, number>;
}

/** `tether appliance token` → the token alone on stdout. */
export async function enrolmentToken(s: OneClickSystem, serial: string): Promise<string> {
  const r = await s.system.tether(['appliance', 'token', '--serial', serial]);
  if (r.code !== 0) throw new Error(`appliance token failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function enrol(s: OneClickSystem, box: SimulatedAppliance): Promise<void> {
  const token = await enrolmentToken(s, box.serial);
  const r = await box.ktether(['enroll', '--api', s.apiUrl, '--token', token]);
  if (r.code !== 0) throw new Error(`ktether enroll failed: ${r.stderr}`);
}

export async function enrolledAppliance(s: OneClickSystem, spec: ApplianceSpec): Promise<SimulatedAppliance> {
  const box = await simulatedAppliance(s.system, spec);
  await enrol(s, box);
  return box;
}
