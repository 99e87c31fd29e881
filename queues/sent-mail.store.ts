// Records that the SMTP server accepted a notice, under the notice's identity (the left part of its
// Message-ID), so that a job run again after a crash between the 250 and its acknowledgement sends
// nothing. The key mail has its own record, written with the key text's removal (key-text.store.ts).
import type { Redis } from 'ioredis';
import { mailIdentityKey, type MailIdentity } from '../shared/mail/message-id.js';
import { pipelineKeys, type PipelineKeys } from '../shared/store/redis-keys.js';

/** As long as a completed notification job keeps its id (job-options.ts): a re-run comes sooner. */
const SENT_RECORD_MS = 7 * 86_400_000;

export class SentMailStore {
  private readonly keys: PipelineKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = pipelineKeys(prefix);
  }

  /** Call right after the SMTP server's 250, before anything else. */
  async record(id: MailIdentity, now: number): Promise<void> {
    await this.redis.set(this.keys.sentMail(mailIdentityKey(id)), String(now), 'PX', SENT_RECORD_MS);
  }

  async wasSent(id: MailIdentity): Promise<boolean> {
    return (await this.redis.exists(this.keys.sentMail(mailIdentityKey(id)))) === 1;
  }
}
