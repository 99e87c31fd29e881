// Parent side of agent-fleet-child: spawns the child processes, hands each its share of the
// appliances, collects their set-up figures and, on request, where their agents are. Keeps the
// agents' CPU out of the relays'.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { AgentAppliance, AgentFleetMessage, AgentFleetRequest, AgentsStarted, AgentsStatus } from './agent-fleet-child.js';
import { closeChildren, mergeSetups } from './fleet-setup.js';
import { killOnExit } from './kill-on-exit.js';

export type { AgentAppliance } from './agent-fleet-child.js';

export type AgentFleetResult = Omit<AgentsStarted, 'type'>;

export interface AgentFleetStatus {
  states: Record<string, number>;
  byPort: Record<number, number>;
  reconnects: AgentsStatus['reconnects'];
  retries: number;
  errors: string[];
  retryKinds: Record<string, number>;
  dialMs: number[];
}

export interface AgentFleet {
  pids: number[];
  /** Starts the agents (spread over the processes) and resolves when each is connected or gave up. */
  start(appliances: AgentAppliance[], concurrency: number): Promise<AgentFleetResult>;
  status(): Promise<AgentFleetStatus>;
  close(): Promise<void>;
}

/** A process whose event loop does not answer a ping for this long is taken as hung. */
const HUNG_MS = 60_000;

/**
 * The child's next message of `type`. Meanwhile it is pinged every 15 s: a child that stops
 * answering (its event loop blocked, e.g. the Node 20.20 key-export deadlock shared/key/fresh-keys.ts describes) fails the wait
 * instead of holding the benchmark forever.
 */
function nextMessage<T extends AgentFleetMessage['type']>(child: ChildProcess, type: T): Promise<Extract<AgentFleetMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    let lastPong = Date.now();
    const done = () => {
      clearInterval(ping);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (m: AgentFleetMessage) => {
      if (m.type === 'pong') lastPong = Date.now();
      if (m.type !== type) return;
      done();
      resolve(m as Extract<AgentFleetMessage, { type: T }>);
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`agent fleet process exited (${code}) before "${type}"`));
    };
    const ping = setInterval(() => {
      if (Date.now() - lastPong > HUNG_MS) {
        done();
        reject(new Error(`agent fleet process ${child.pid} has not answered for ${HUNG_MS / 1000} s (hung) while waiting for "${type}"`));
        return;
      }
      child.send({ type: 'ping' } satisfies AgentFleetRequest);
    }, 15_000);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function startAgentFleet(processes: number, opts: { keepaliveMs: number; setupTimeoutMs: number }): AgentFleet {
  const script = join(import.meta.dirname, 'agent-fleet-child.js');
  const children = Array.from({ length: processes }, () => {
    const c = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    killOnExit(c);
    return c;
  });
  return {
    pids: children.map((c) => c.pid ?? 0),
    async start(appliances, concurrency) {
      const per = Math.max(1, Math.round(concurrency / children.length));
      const replies: Promise<AgentsStarted>[] = children.map((c, i) => {
        const reply = nextMessage(c, 'started');
        const share = appliances.filter((_a, j) => j % children.length === i);
        c.send({ type: 'start', appliances: share, concurrency: per, keepaliveMs: opts.keepaliveMs, setupTimeoutMs: opts.setupTimeoutMs } satisfies AgentFleetRequest);
        return reply;
      });
      const all = await Promise.all(replies);
      const merged = mergeSetups(all);
      return { ...merged, retries: all.reduce((s, r) => s + r.retries, 0), errors: merged.errors.slice(0, 10) };
    },
    async status() {
      const all = await Promise.all(
        children.map((c) => {
          const reply = nextMessage(c, 'status');
          c.send({ type: 'status' } satisfies AgentFleetRequest);
          return reply;
        }),
      );
      const states: Record<string, number> = {};
      const byPort: Record<number, number> = {};
      for (const s of all) {
        for (const [k, v] of Object.entries(s.states)) states[k] = (states[k] ?? 0) + (v ?? 0);
        for (const [k, v] of Object.entries(s.byPort)) byPort[Number(k)] = (byPort[Number(k)] ?? 0) + v;
      }
      const retryKinds: Record<string, number> = {};
      for (const s of all) for (const [k, v] of Object.entries(s.retryKinds)) retryKinds[k] = (retryKinds[k] ?? 0) + v;
      return {
        states,
        byPort,
        reconnects: all.flatMap((s) => s.reconnects),
        retries: all.reduce((n, s) => n + s.retries, 0),
        errors: all.flatMap((s) => s.errors).slice(0, 10),
        retryKinds,
        dialMs: all.flatMap((s) => s.dialMs),
      };
    },
    close: () => closeChildren(children, 15_000),
  };
}
