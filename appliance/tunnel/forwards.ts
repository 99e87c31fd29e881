// The appliance side of the virtual forwards: asks the relay for `tcpip-forward` on each port,
// answers the relay's `forwarded-tcpip` channels by connecting to the configured local service and
// piping both ways (stream.pipe keeps backpressure), and cancels the forwards on disable.
import { connect, type Socket } from 'node:net';
import type { Client as SshClient } from 'ssh2';
import type { ForwardTarget } from '../agent-config.js';
import { isClosed } from './client-close.js';
import { refusalText, rejectWithText } from './channel-refusal.js';

/** The bind address OpenSSH sends for `-R PORT:…`; the relay echoes it on every channel. */
export const BIND_ADDRESS = 'localhost';

const CONNECTION_CLOSED = 'connection to the relay closed';

export interface ForwardSpec {
  port: number;
  target: ForwardTarget;
}

/** Told when an engineer channel to a forwarded port opens (piped to its local service) and closes. */
export type ChannelListener = (port: number, change: 'opened' | 'closed') => void;

export interface ForwardOutcome {
  forwarded: number[];
  failed: { port: number; error: string }[];
}

function request(client: SshClient, kind: 'forwardIn' | 'unforwardIn', port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (isClosed(client)) return reject(new Error(CONNECTION_CLOSED));
    const timer = setTimeout(() => done(new Error(`no answer to ${kind} ${port} within ${timeoutMs} ms`)), timeoutMs);
    // ssh2 drops pending global-request callbacks when the connection closes: answer them here.
    const onClose = (): void => done(new Error(CONNECTION_CLOSED));
    client.once('close', onClose);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      client.removeListener('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    try {
      if (kind === 'forwardIn') client.forwardIn(BIND_ADDRESS, port, (err) => done(err ?? undefined));
      else client.unforwardIn(BIND_ADDRESS, port, (err) => done(err ?? undefined));
    } catch (err) {
      done(err as Error);
    }
  });
}

export async function requestForwards(client: SshClient, specs: readonly ForwardSpec[], timeoutMs: number): Promise<ForwardOutcome> {
  const results = await Promise.allSettled(specs.map((s) => request(client, 'forwardIn', s.port, timeoutMs)));
  const outcome: ForwardOutcome = { forwarded: [], failed: [] };
  results.forEach((r, i) => {
    const port = specs[i]!.port;
    if (r.status === 'fulfilled') outcome.forwarded.push(port);
    else outcome.failed.push({ port, error: (r.reason as Error).message });
  });
  return outcome;
}

/**
 * Best effort: the relay closes the session (and the connection) at the first cancel it accepts.
 * A relay that refuses every cancel (its store was briefly unavailable) is asked again, twice.
 */
export async function cancelForwards(client: SshClient, ports: readonly number[], timeoutMs: number): Promise<boolean> {
  for (let round = 0; round < 3 && ports.length > 0; round += 1) {
    const results = await Promise.allSettled(ports.map((p) => request(client, 'unforwardIn', p, timeoutMs)));
    if (results.some((r) => r.status === 'fulfilled')) return true;
    if (isClosed(client)) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/**
 * Serves `tcp connection` events of one relay connection; returns a function that destroys every
 * socket still open (on drop or disable).
 */
export function serveForwards(client: SshClient, specs: readonly ForwardSpec[], onError: (message: string) => void, onChannel?: ChannelListener): () => void {
  const targets = new Map(specs.map((s) => [s.port, s.target]));
  const open = new Set<Socket>();
  client.on('tcp connection', (info, accept, reject) => {
    const target = targets.get(info.destPort);
    if (!target) return reject();
    const socket = connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    open.add(socket);
    let channelOpen = false;
    socket.once('connect', () => {
      const channel = accept();
      channelOpen = true;
      onChannel?.(info.destPort, 'opened');
      channel.once('close', () => onChannel?.(info.destPort, 'closed'));
      channel.on('error', () => socket.destroy());
      channel.on('close', () => socket.destroy());
      socket.on('close', () => channel.close());
      channel.pipe(socket).pipe(channel);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!channelOpen) rejectWithText(client, reject, refusalText(err, target));
      onError(`port ${info.destPort}: local service ${target.host}:${target.port}: ${err.message}`);
    });
    socket.on('close', () => open.delete(socket));
  });
  return () => {
    for (const s of open) s.destroy();
    open.clear();
  };
}
