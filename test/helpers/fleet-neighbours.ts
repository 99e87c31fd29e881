// What a fleet under test talks to, for one test file: an SMTP capture, the help desk's comment
// server, and an appliance's sshd and web UI; started in beforeAll, closed in afterAll (after
// whatever the file closes itself, such as the fleet).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSmtpCapture, type SmtpCapture } from '../../shared/mail/smtp-capture.js';
import { startCommentServer, type CommentServer } from '../pipeline/helpers/comment-server.js';
import { startedForFile } from './late-bound.js';
import { useApplianceSshd, useEchoService } from './system-fixtures.js';
import type { TcpService } from './appliance-services.js';

export interface FleetNeighbours {
  smtp: SmtpCapture;
  comments: CommentServer;
  sshd: TcpService;
  web: TcpService;
}

async function startSmtpCapture(): Promise<SmtpCapture> {
  const smtp = createSmtpCapture({ outboxDir: join(mkdtempSync(join(tmpdir(), 'tether-fleet-smtp-')), 'outbox') });
  await smtp.start();
  return smtp;
}

/** `secret` signs the help desk's webhooks and is what the comment server checks. */
export function useFleetNeighbours(secret: string): FleetNeighbours {
  return {
    smtp: startedForFile('the SMTP capture', startSmtpCapture, (smtp) => smtp.close()),
    comments: startedForFile('the comment server', () => startCommentServer(secret), (comments) => comments.close()),
    sshd: useApplianceSshd(),
    web: useEchoService(),
  };
}
