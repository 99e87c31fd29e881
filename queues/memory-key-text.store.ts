// Key texts in memory, for fast unit tests (not for production: nothing sealed, one process). The
// same rules as the Redis store: the text expires with the session (against the injected clock),
// is gone once delivered or forgotten, and the delivery record and the text's removal are one step.
import type { DeliveryChannel } from './job-schemas.js';
import type { KeyTextStore } from './key-text.store.js';

export class MemoryKeyTextStore implements KeyTextStore {
  private readonly texts = new Map<string, { text: string; expiresAt: number }>();
  private readonly delivered = new Set<string>();
  private readonly minting = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  async put(sid: string, keyText: string, expiresAt: number, _now: number): Promise<void> {
    this.texts.set(sid, { text: keyText, expiresAt });
  }

  async get(sid: string): Promise<string | null> {
    const held = this.texts.get(sid);
    return held && held.expiresAt > this.now() ? held.text : null;
  }

  async forget(sid: string): Promise<void> {
    this.texts.delete(sid);
  }

  async recordDelivered(sid: string, channel: DeliveryChannel, _expiresAt: number, _now: number): Promise<void> {
    this.delivered.add(`${sid}:${channel}`);
    this.texts.delete(sid);
  }

  async isDelivered(sid: string, channel: DeliveryChannel = 'email'): Promise<boolean> {
    return this.delivered.has(`${sid}:${channel}`);
  }

  async recordMinting(jobId: string, sid: string, _expiresAt: number, _now: number): Promise<void> {
    this.minting.set(jobId, sid);
  }

  async mintedBy(jobId: string): Promise<string | null> {
    return this.minting.get(jobId) ?? null;
  }
}
