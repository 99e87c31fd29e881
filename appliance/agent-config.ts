// The appliance's identity and forward targets (KTETHER_HOME/config.json), written once by
// `ktether init` and read by every other command and the daemon.
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { DEFAULT_PORTS, portSchema, productSchema, serialSchema, type Product } from '../shared/key/tether-key.schema.js';
import { readJsonIfExists, writeJsonAtomic, type AgentPaths } from './agent-home.js';

export const ACCOUNT_PROVIDER_KINDS = ['file', 'linux'] as const;
export type AccountProviderKind = (typeof ACCOUNT_PROVIDER_KINDS)[number];

const targetSchema = z.object({ host: z.string().min(1).max(255), port: portSchema });
export type ForwardTarget = z.infer<typeof targetSchema>;

export const agentConfigSchema = z.object({
  v: z.literal(1),
  serial: serialSchema,
  product: productSchema,
  version: z.string().min(1).max(32),
  /** File name of the vendor key copy, relative to KTETHER_HOME. */
  vendorKeyFile: z.string().min(1),
  /** Appliance port (as the relay and engineers know it) → local service it reaches. */
  forwards: z.record(z.string().regex(/^[0-9]+$/), targetSchema),
  accounts: z.enum(ACCOUNT_PROVIDER_KINDS),
});
export type AgentConfig = z.infer<typeof agentConfigSchema>;

/** Each product's ports, each to its own local service: the database (3306) only on SMA. */
export function defaultForwards(product: Product): Record<string, ForwardTarget> {
  return Object.fromEntries(DEFAULT_PORTS[product].map((p) => [String(p), { host: '127.0.0.1', port: p }]));
}

/** `PORT=HOST:PORT` (IPv6 hosts in brackets: `22=[::1]:2222`). */
export function parseForward(spec: string): { port: number; target: ForwardTarget } {
  const m = /^(\d+)=(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(spec.trim());
  const port = m ? Number(m[1]) : NaN;
  const targetPort = m ? Number(m[3]) : NaN;
  const target = targetSchema.safeParse({ host: m?.[2]?.replace(/^\[|\]$/g, ''), port: targetPort });
  if (!m || !portSchema.safeParse(port).success || !target.success) {
    throw new AppError('usage', `invalid --forward "${spec.slice(0, 100)}": expected PORT=HOST:PORT (e.g. 22=127.0.0.1:2222; a host of at most 255 characters)`);
  }
  return { port, target: target.data };
}

export function forwardTarget(config: AgentConfig, port: number): ForwardTarget | undefined {
  return config.forwards[String(port)];
}

export function loadAgentConfig(paths: AgentPaths): AgentConfig {
  const raw = readJsonIfExists(paths.config);
  if (raw === undefined) throw new AppError('agent_not_initialised', `not initialised in ${paths.home}: run ktether init first`);
  const parsed = agentConfigSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('agent_not_initialised', `${paths.config} is invalid: run ktether init again`);
  return parsed.data;
}

export function saveAgentConfig(paths: AgentPaths, config: AgentConfig): void {
  writeJsonAtomic(paths.config, agentConfigSchema.parse(config));
}
