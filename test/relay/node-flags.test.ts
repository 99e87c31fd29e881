// The relay's V8 flags (relay/node-flags.ts) reach every way a relay is started in production: the
// relay processes a primary forks (withRelayNodeFlags; their command lines are checked in
// test/e2e/relay-processes.e2e.test.ts) and the systemd unit's command line.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { missingRelayNodeFlags, RELAY_NODE_FLAGS, withRelayNodeFlags } from '../../relay/node-flags.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

describe('relay node flags', () => {
  it('the relay runs with a single-threaded GC', () => {
    expect(RELAY_NODE_FLAGS).toContain('--single-threaded-gc');
  });

  it('adds the flags a forked relay lacks, once, after the ones it has', () => {
    expect(withRelayNodeFlags([])).toEqual([...RELAY_NODE_FLAGS]);
    expect(withRelayNodeFlags(['--enable-source-maps'])).toEqual(['--enable-source-maps', ...RELAY_NODE_FLAGS]);
    expect(withRelayNodeFlags([...RELAY_NODE_FLAGS])).toEqual([...RELAY_NODE_FLAGS]);
  });

  it('names the flags a process was started without', () => {
    expect(missingRelayNodeFlags(['--enable-source-maps'])).toEqual([...RELAY_NODE_FLAGS]);
    expect(missingRelayNodeFlags([...RELAY_NODE_FLAGS])).toEqual([]);
  });

  it('the systemd unit starts node with them, before the script', () => {
    const unit = readFileSync(join(ROOT, 'deploy', 'systemd', 'tether-relay.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(/\s+/) ?? [];
    const script = exec.findIndex((w) => w.endsWith('dist/scripts/serve.js'));
    expect(script).toBeGreaterThan(0);
    expect(exec.slice(1, script)).toEqual(expect.arrayContaining([...RELAY_NODE_FLAGS]));
  });
});
