// Hands a freshly minted key to the delivery queue: the sealed key text goes to Redis (never into
// job data), then a key-delivery job names the session. Used by the key-issue worker and by the
// operator CLI (`tether key issue --email`), so both take the same path.
import type { SessionRecord } from '../shared/session/session.schema.js';
import type { KeyTextStore } from './key-text.store.js';
import type { Producers } from './producers.js';

export interface HandoverDeps {
  keyTexts: KeyTextStore;
  producers: Producers;
  now: () => number;
}

export async function handOverKeyForDelivery(deps: HandoverDeps, issued: { session: SessionRecord; key: string }): Promise<string> {
  await deps.keyTexts.put(issued.session.id, issued.key, issued.session.expiresAt, deps.now());
  return deps.producers.keyDelivery(issued.session.id, 'email');
}
