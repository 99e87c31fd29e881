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

  it('leaves a flag the operator turned off, off; takes either spelling', () => {
    expect(withRelayNodeFlags(['--no-single-threaded-gc'])).toEqual(['--no-single-threaded-gc']);
    expect(withRelayNodeFlags(['--single_threaded_gc'])).toEqual(['--single_threaded_gc']);
  });

  it('names the flags a process runs without', () => {
    expect(missingRelayNodeFlags(['--enable-source-maps'])).toEqual([...RELAY_NODE_FLAGS]);
    expect(missingRelayNodeFlags([...RELAY_NODE_FLAGS])).toEqual([]);
    expect(missingRelayNodeFlags(['--single_threaded_gc'])).toEqual([]);
    expect(missingRelayNodeFlags(['--single-threaded-gc', '--no-single-threaded-gc'])).toEqual(['--single-threaded-gc']);
  });

  it('the compose file starts its relays with them', () => {
    const compose = readFileSync(join(ROOT, 'deploy', 'compose.yaml'), 'utf8');
    const relays = [...compose.matchAll(/^ {2}(relay-\d+):\n((?: {4}.*\n)+)/gm)];
    expect(relays.map((m) => m[1])).toEqual(['relay-1', 'relay-2']);
    for (const [, name, body] of relays) {
      const entrypoint = /^ {4}entrypoint: \[(.*)\]$/m.exec(body ?? '')?.[1]?.split(/,\s*/) ?? [];
      expect(entrypoint, name).toEqual(['node', ...RELAY_NODE_FLAGS, '/opt/tether/dist/scripts/serve.js']);
    }
  });

  it('the image applies the dependency patches after npm ci, and builds without the local node_modules', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    const ci = dockerfile.indexOf('RUN npm ci');
    const patches = dockerfile.indexOf('patches/*.patch');
    expect(ci).toBeGreaterThan(0);
    expect(patches).toBeGreaterThan(ci);
    const ignore = readFileSync(join(ROOT, 'deploy', 'Dockerfile.dockerignore'), 'utf8').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['node_modules', 'dist']));
  });

  it('the systemd unit starts node with them, before the script', () => {
    const unit = readFileSync(join(ROOT, 'deploy', 'systemd', 'tether-relay.service'), 'utf8');
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.split(/\s+/) ?? [];
    const script = exec.findIndex((w) => w.endsWith('dist/scripts/serve.js'));
    expect(script).toBeGreaterThan(0);
    expect(exec.slice(1, script)).toEqual(expect.arrayContaining([...RELAY_NODE_FLAGS]));
  });
});
