// Parent side of appliance-fleet-child: spawns the child processes, hands each its share of the
// appliances, and collects their set-up figures. Keeps the clients' CPU out of the relay's.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FleetAppliance, FleetConnected, FleetMessage, FleetRequest } from './appliance-fleet-child.js';
import { closeChildren, mergeSetups } from './fleet-setup.js';

export type { FleetAppliance } from './appliance-fleet-child.js';

export type FleetResult = Omit<FleetConnected, 'type'>;

export interface Fleet {
  pids: number[];
  connect(appliances: FleetAppliance[], concurrency: number): Promise<FleetResult>;
  close(): Promise<void>;
}

function nextMessage<T extends FleetMessage['type']>(child: ChildProcess, type: T): Promise<Extract<FleetMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FleetMessage) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as Extract<FleetMessage, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`appliance fleet process exited (${code}) before "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function startFleet(processes: number, relay: { host: string; port: number; fp: string }, keepaliveMs = 15_000): Fleet {
  const script = join(import.meta.dirname, 'appliance-fleet-child.js');
  const children = Array.from({ length: processes }, () => fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return {
    pids: children.map((c) => c.pid ?? 0),
    async connect(appliances, concurrency) {
      const shares = children.map((_, i) => appliances.filter((_a, j) => j % children.length === i));
      const per = Math.max(1, Math.round(concurrency / children.length));
      const replies: Promise<FleetConnected>[] = children.map((c, i) => {
        const reply = nextMessage(c, 'connected');
        c.send({ type: 'connect', relay, appliances: shares[i] ?? [], concurrency: per, keepaliveMs } satisfies FleetRequest);
        return reply;
      });
      const all = await Promise.all(replies);
      return { ...mergeSetups(all), cipher: all.find((r) => r.cipher)?.cipher };
    },
    close: () => closeChildren(children, 10_000),
  };
}
