// The appliance's service as the benchmarks stand it in: a TCP server on loopback that echoes every
// byte back, so that an engineer's first echoed byte marks the path through the relay as open.
import { createServer, type AddressInfo } from 'node:net';

export interface EchoServer {
  port: number;
  close(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.pipe(sock);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
