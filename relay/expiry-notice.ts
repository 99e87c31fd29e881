// Tells an appliance agent its session's expiry (`expiry@tether`, shared/relay-protocol.ts): after
// the tunnel's first accepted forward, and whenever an operator extends the session, so the agent's
// own expiry timer and `ktether status` follow what the relay and the pipeline enforce.
import { EXPIRY_NOTICE, encodeExpiryNotice } from '../shared/relay-protocol.js';
import type { Logger } from '../shared/logger.js';
import type { Tunnel } from './appliance-registry.js';
import { sendGlobalNotice } from './ssh2-internals.js';

export function tellExpiry(tunnel: Tunnel, expiresAt: number, logger: Logger): void {
  tunnel.expiresAt = expiresAt;
  if (tunnel.ended) return;
  // Not written during a key re-exchange: the agent hears it on its next connection instead.
  if (!sendGlobalNotice(tunnel.conn, EXPIRY_NOTICE, encodeExpiryNotice(expiresAt))) {
    logger.info({ sid: tunnel.sid, serial: tunnel.serial }, 'expiry notice not sent now (key re-exchange); the agent hears it when it reconnects');
  }
}
