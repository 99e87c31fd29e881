// Commands a connection sends in one turn of the event loop leave in one write: ioredis writes each
// command on its own (BullMQ's connections are not auto-pipelined: its scripts run one by one),
// and every write is a system call plus, on loopback, the server's TCP processing of a segment. The
// socket is corked at a turn's first write and uncorked once that turn's I/O is handled, so the
// commands go out together, in order, on the same connection: what Redis sees is exactly what it
// saw before, only in fewer segments (the same trick as the relay's, relay/ssh2-internals.ts).
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';

const hooked = new WeakSet<object>();

function corkPerTurn(sock: Socket): void {
  if (hooked.has(sock) || typeof sock.cork !== 'function') return;
  hooked.add(sock);
  const write = sock.write;
  let corked = false;
  sock.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked && this.writable) {
      corked = true;
      this.cork();
      setImmediate(() => {
        corked = false;
        this.uncork();
      });
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/** Applies to every socket the client opens (each reconnect brings a new one). */
export function coalesceRedisWrites(client: Redis): Redis {
  const hook = () => {
    const stream = (client as unknown as { stream?: Socket }).stream;
    if (stream) corkPerTurn(stream);
  };
  client.on('connect', hook);
  hook();
  return client;
}
