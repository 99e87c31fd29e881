// Disable without a daemon (it crashed): connect once with the same pinned credential, ask for the
// session's forwards and cancel them, so the relay closes the session as customer_disabled.
import { endAndWait } from './client-close.js';
import { cancelForwards, requestForwards, type ForwardSpec } from './forwards.js';
import { dialRelay, type RelayEndpoint } from './relay-dial.js';

export interface CancelOnceOptions {
  relay: RelayEndpoint;
  username: string;
  privateKey: string;
  activationKey?: string | undefined;
  forwards: readonly ForwardSpec[];
  timeoutMs: number;
}

/** Whether the relay accepted a cancel; throws the dial's AppError when it could not connect. */
export async function cancelSessionOnce(opts: CancelOnceOptions): Promise<boolean> {
  const client = await dialRelay({ relay: opts.relay, username: opts.username, privateKey: opts.privateKey, activationKey: opts.activationKey, keepaliveMs: 15_000, readyTimeoutMs: opts.timeoutMs });
  client.on('error', () => {}); // the relay ends the connection on cancel; nothing to report
  try {
    const { forwarded } = await requestForwards(client, opts.forwards, opts.timeoutMs);
    return await cancelForwards(client, forwarded, opts.timeoutMs);
  } finally {
    await endAndWait(client, opts.timeoutMs);
  }
}
