// Holds a freshly minted key's text between minting and delivery, so that job data never carries
// it: what every key text store does. The text expires with the session; it is deleted after delivery
// (with the delivery record, in one step) and when the session closes. Implementations:
// redis-key-text.store.ts (sealed at rest), memory-key-text.store.ts (tests).
import type { DeliveryChannel } from './job-schemas.js';

export interface KeyTextStore {
  /** Keeps the key text until `expiresAt`. */
  put(sid: string, keyText: string, expiresAt: number, now: number): Promise<void>;
  /** The key text, or null when it is gone (delivered, closed, expired). */
  get(sid: string): Promise<string | null>;
  forget(sid: string): Promise<void>;
  /**
   * Records that the key went out on `channel` and destroys its text, in one step: there is no
   * moment where the text is gone but the record missing, or the record set but the text kept.
   * Call it right after the SMTP server's 250 and before anything else the job does.
   */
  recordDelivered(sid: string, channel: DeliveryChannel, expiresAt: number, now: number): Promise<void>;
  /** Whether the key went out on `channel` (email by default). */
  isDelivered(sid: string, channel?: DeliveryChannel): Promise<boolean>;
  /**
   * Notes, before minting, the session id a key-issue job is about to mint (kept until `expiresAt`
   * plus a grace): a retry replaces only a session it finds noted here, never one someone else made.
   */
  recordMinting(jobId: string, sid: string, expiresAt: number, now: number): Promise<void>;
  /** The session id `jobId` last noted, or null. */
  mintedBy(jobId: string): Promise<string | null>;
}
