// Stand-ins for an appliance's own services (its sshd on 22, its web UI on 443) that a simulated
// appliance forwards to: a TCP echo server and an ssh2 server that runs `echo` for any key.
import { createServer, type AddressInfo, type Server } from 'node:net';
import ssh2 from 'ssh2';
import { ed25519Pair } from './ed25519-pair.js';

export interface TcpService {
  port: number;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Echoes every byte back; optionally prefixes a greeting so two services can be told apart. */
export async function startEchoService(greeting = ''): Promise<TcpService> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    if (greeting) sock.write(greeting);
    sock.pipe(sock);
  });
  const port = await listen(server);
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

/** An SSH server for `kace_support` that accepts any public key and answers exec with the command's echo. */
export async function startApplianceSshd(): Promise<TcpService> {
  const hostKey = ed25519Pair().private;
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => (ctx.username === 'kace_support' && ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec, _reject, info) => {
        const stream = acceptExec();
        stream.write(`appliance says: ${info.command}\n`);
        stream.exit(0);
        stream.end();
      });
    });
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}
