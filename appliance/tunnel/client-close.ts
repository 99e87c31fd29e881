// Knowing when an ssh2 client has closed, even if it closed before anyone asked, and ending one
// within a bounded time (a relay that never answers must not hold up disable).
import type { Client as SshClient } from 'ssh2';

const closedPromises = new WeakMap<SshClient, { promise: Promise<void>; closed: boolean }>();

/** Call as soon as a client exists so no close is missed; later calls return the same promise. */
export function closedPromise(client: SshClient): Promise<void> {
  let entry = closedPromises.get(client);
  if (!entry) {
    const e = { closed: false, promise: Promise.resolve() };
    e.promise = new Promise((resolve) =>
      client.once('close', () => {
        e.closed = true;
        resolve();
      }),
    );
    closedPromises.set(client, e);
    entry = e;
  }
  return entry.promise;
}

export function isClosed(client: SshClient): boolean {
  return closedPromises.get(client)?.closed ?? false;
}

export async function endAndWait(client: SshClient, timeoutMs: number): Promise<void> {
  const closed = closedPromise(client);
  client.end();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, timeoutMs);
  });
  await Promise.race([closed, late]);
  clearTimeout(timer);
}
