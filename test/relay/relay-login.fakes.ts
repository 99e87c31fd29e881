// Fakes for the relay's login rules without sockets or Redis: the stores in memory, public-key
// attempts as ssh2 hands them to the relay (signed with a real Ed25519 key, or a bare "would you take
// this key?" query), and a connection that records how each attempt was answered.
import { randomBytes, sign } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Connection, PublicKeyAuthContext } from 'ssh2';
import type { LoginDeps } from '../../relay/connection-login.js';
import { createLogger } from '../../shared/logger.js';
import { generateSeed, privateKeyObjectFromSeed, publicKeyBlob, rawPublicFromSeed } from '../../shared/ssh-keys.js';
import { MemoryAuditLog } from '../../shared/store/memory/memory-audit.store.js';
import { MemoryEngineerDirectory } from '../../shared/store/memory/memory-engineer.store.js';
import { MemorySessionStore } from '../../shared/store/memory/memory-session.store.js';

/** One relay's login dependencies on in-memory stores (relay `r1`); set `clock.now` to move time. */
export function memoryRelay(t0: number) {
  const audit = new MemoryAuditLog();
  const sessions = new MemorySessionStore(audit);
  const engineers = new MemoryEngineerDirectory(audit);
  const clock = { now: t0 };
  const deps: LoginDeps = { sessions, engineers, audit, relayId: 'r1', now: () => clock.now, actor: 'relay:r1', logger: createLogger('login-test', 'silent') };
  return { audit, sessions, engineers, clock, deps };
}

export type Answer = 'accept' | 'partial' | 'reject';

export interface KeyPair {
  seed: Buffer;
  raw: Buffer;
}

export function keyPair(seed = generateSeed()): KeyPair {
  return { seed, raw: rawPublicFromSeed(seed) };
}

/** An ssh-ed25519 attempt by `username` with `key`: signed (a login) unless `query`. */
export function attempt(username: string, key: KeyPair, opts: { query?: boolean; signWith?: KeyPair } = {}): PublicKeyAuthContext & { answer: Promise<Answer> } {
  const data = randomBytes(64);
  let answered: (a: Answer) => void = () => undefined;
  const answer = new Promise<Answer>((resolve) => (answered = resolve));
  const ctx = {
    method: 'publickey',
    username,
    key: { algo: 'ssh-ed25519', data: publicKeyBlob(key.raw) },
    ...(opts.query ? {} : { blob: data, signature: sign(null, data, privateKeyObjectFromSeed((opts.signWith ?? key).seed)) }),
    accept: () => answered('accept'),
    reject: (_methods?: string[], partial?: boolean) => answered(partial ? 'partial' : 'reject'),
    answer,
  };
  return ctx as unknown as PublicKeyAuthContext & { answer: Promise<Answer> };
}

/** A connection ssh2 would emit 'authentication' on; `ended` once the relay dropped it. */
export function fakeConnection(): Connection & { ended: boolean; login(ctx: PublicKeyAuthContext & { answer: Promise<Answer> }): Promise<Answer> } {
  const conn = Object.assign(new EventEmitter(), {
    ended: false,
    end() {
      conn.ended = true;
      conn.emit('close');
    },
    login(ctx: PublicKeyAuthContext & { answer: Promise<Answer> }) {
      conn.emit('authentication', ctx);
      return ctx.answer;
    },
  });
  return conn as unknown as Connection & { ended: boolean; login(ctx: PublicKeyAuthContext & { answer: Promise<Answer> }): Promise<Answer> };
}
