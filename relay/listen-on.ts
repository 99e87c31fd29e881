// Starts an ssh2 server listening and resolves once it is bound, or rejects with the bind error
// (port taken, address not local): the relay and its peer-link listener start the same way.
// `exclusive`: never share the port with the other processes of a cluster (a relay per core shares
// its SSH port, but each relay's peer listener must reach that relay alone).
import type ssh2 from 'ssh2';

export function listenOn(server: ssh2.Server, at: { host: string; port: number; exclusive?: boolean }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: at.port, host: at.host, exclusive: at.exclusive ?? false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
