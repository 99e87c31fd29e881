// A simulated appliance's KTETHER_HOME for one test: a fresh temp dir, a test vendor for the serial,
// and `ktether init` run the customer's way with each forwarded port pointing at one local target.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { agentPaths, type AgentPaths } from '../../appliance/agent-home.js';
import { testVendor, type TestVendor } from './appliance-keys.js';
import type { KtetherBuild } from './ktether-build.js';

export interface ApplianceHome {
  /** The temp dir holding the home and the vendor key; the caller removes it. */
  dir: string;
  paths: AgentPaths;
  vendor: TestVendor;
}

export async function initApplianceHome(
  build: KtetherBuild,
  opts: { tag: string; serial: string; version: string; ports: number[]; target: number; accounts?: 'file' | 'linux' },
): Promise<ApplianceHome> {
  const dir = mkdtempSync(join(tmpdir(), opts.tag));
  const paths = agentPaths(join(dir, 'home'));
  const vendor = testVendor({ serial: opts.serial, relay: { host: '127.0.0.1', port: 1, fp: 'SHA256:x' } });
  const forwards = opts.ports.flatMap((port) => ['--forward', `${port}=127.0.0.1:${opts.target}`]);
  const init = await build.run(['init', '--serial', opts.serial, '--product', 'sma', '--version', opts.version, '--vendor-key', vendor.writePublic(dir), ...forwards, ...(opts.accounts ? ['--accounts', opts.accounts] : [])], { KTETHER_HOME: paths.home });
  expect(init.code, init.stderr).toBe(0);
  return { dir, paths, vendor };
}
