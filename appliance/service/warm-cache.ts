// What a click needs, kept ready by the resident service: the parsed config, the verified vendor
// key(s), the enrolled identity, the account provider, the next support password (prepared) and the
// relay's resolved address. Files are re-read only when they change on disk (`ktether init` or
// `enroll` while the service runs).
import { statSync, readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { describeError } from '../../shared/errors.js';
import type { TrustedSigners } from '../../shared/key/key-codec.js';
import { trustedSignersFromPem } from '../../shared/key/trusted-signers.js';
import { loadAgentConfig, type AgentConfig } from '../agent-config.js';
import type { AgentPaths } from '../agent-home.js';
import type { AgentLog } from '../agent-log.js';
import type { AccountProvider } from '../accounts/account-provider.js';
import type { CommandRunner } from '../accounts/command-runner.js';
import { accountProviderFor } from '../accounts/select-provider.js';
import type { Clock } from '../clock.js';
import type { TunnelAgentDial } from '../daemon/tether-runner.js';
import { readIdentity, type ApplianceIdentity } from '../identity.js';
import { dialRelay } from '../tunnel/relay-dial.js';
import { PasswordAhead } from './password-ahead.js';

/** How long a resolved relay address is used before it is looked up again. */
export const RELAY_ADDRESS_TTL_MS = 300_000;

/** Size, mtime and inode: enough to notice a rewrite (atomic writes change the inode). */
function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

class FileBacked<T> {
  #stamp = '';
  #value: T | undefined;
  constructor(
    readonly stampOf: () => string,
    readonly load: () => T,
  ) {}
  get(): T {
    const now = this.stampOf();
    if (now !== this.#stamp || this.#value === undefined) {
      this.#value = this.load();
      this.#stamp = now;
    }
    return this.#value;
  }
}

export class WarmCache {
  readonly #paths: AgentPaths;
  readonly #clock: Clock;
  readonly #log: AgentLog;
  readonly #config: FileBacked<AgentConfig>;
  readonly #signers: FileBacked<TrustedSigners>;
  readonly #identity: FileBacked<{ id: ApplianceIdentity | undefined }>;
  readonly #accounts: FileBacked<AccountProvider>;
  readonly #addresses = new Map<string, { address: string; at: number }>();
  /** The next generated support password, prepared for the account provider ahead of the click. */
  readonly passwords: PasswordAhead;

  constructor(paths: AgentPaths, opts: { clock: Clock; log: AgentLog; runner?: CommandRunner | undefined }) {
    this.#paths = paths;
    this.#clock = opts.clock;
    this.#log = opts.log;
    this.#config = new FileBacked(() => stamp(paths.config), () => loadAgentConfig(paths));
    const vendorFile = () => join(paths.home, this.config().vendorKeyFile);
    this.#signers = new FileBacked(() => `${stamp(paths.config)}|${stamp(vendorFile())}`, () => trustedSignersFromPem(readFileSync(vendorFile(), 'utf8')));
    this.#identity = new FileBacked(() => stamp(paths.identity), () => ({ id: readIdentity(paths) }));
    this.#accounts = new FileBacked(
      () => stamp(paths.config),
      () => {
        const provider = accountProviderFor(this.config().accounts, paths, opts.runner);
        // A new provider (first load, or `ktether init` changed it): prepare its next password.
        setTimeout(() => this.passwords.refill(), 0).unref();
        return provider;
      },
    );
    this.passwords = new PasswordAhead(() => this.accounts(), opts.log);
  }

  /** Throws agent_not_initialised until `ktether init` has run. */
  config(): AgentConfig {
    return this.#config.get();
  }

  signers(): TrustedSigners {
    return this.#signers.get();
  }

  identity(): ApplianceIdentity | undefined {
    return this.#identity.get().id;
  }

  accounts(): AccountProvider {
    return this.#accounts.get();
  }

  /** Loads everything once, so the first click finds it ready; problems are logged, not fatal. */
  warmUp(relayHost?: string): void {
    try {
      this.config();
      this.signers();
      this.identity();
      this.accounts(); // its first load prepares the next support password
    } catch (err) {
      this.#log(`service: not ready for a tether yet: ${describeError(err)}`);
    }
    if (relayHost) void this.resolveRelay(relayHost);
  }

  /** Looks the relay's host up now (in the background of a click that does not need it yet). */
  async resolveRelay(host: string): Promise<void> {
    if (isIP(host)) return;
    try {
      const { address } = await lookup(host);
      this.#addresses.set(host, { address, at: this.#clock.now() });
    } catch (err) {
      this.#log(`cannot resolve the relay ${host} ahead of time: ${describeError(err)}`);
    }
  }

  /** The cached address of `host` while fresh; a stale or missing one is looked up for next time. */
  addressOf(host: string): string | undefined {
    if (isIP(host)) return host;
    const hit = this.#addresses.get(host);
    if (hit && this.#clock.now() - hit.at < RELAY_ADDRESS_TTL_MS) return hit.address;
    void this.resolveRelay(host);
    return undefined;
  }

  /** The relay dial with the warm address. */
  readonly dial: TunnelAgentDial = (o) => dialRelay({ ...o, address: this.addressOf(o.relay.host) });

  get paths(): AgentPaths {
    return this.#paths;
  }
}
