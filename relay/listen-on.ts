// Starts an ssh2 server listening and resolves once it is bound, or rejects with the bind error
// (port taken, address not local): the relay and its peer-link listener start the same way.
import type ssh2 from 'ssh2';

export function listenOn(server: ssh2.Server, at: { host: string; port: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
