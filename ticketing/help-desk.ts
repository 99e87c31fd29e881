// One help desk as the registry (help-desks.ts) lists it: how config loading reads its variables,
// how its adapter is built when the configuration switches it on, and what it can do with the
// configuration given (start-up lines, GET /v1/help-desks). Each vendor makes its own with
// `vendorHelpDesk` in ticketing/<vendor>/<vendor>.config.ts; no I/O here.
import { z } from 'zod';
import type { HelpDeskEntry, HelpDeskSettings, ServerConfig, TicketingConfig } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import type { LocalTicketSink } from './local-ticket-sink.js';
import type { TicketAdapter } from './ticket-adapter.js';
import type { VendorAdapterOptions } from './vendor-http.js';

export interface HelpDeskOptions {
  now: () => number;
  /** The embedded default's local stand-in for the generic help desk's comment URL. */
  localSink?: LocalTicketSink | undefined;
  /** Tests shorten the vendors' in-process waits. */
  http?: VendorAdapterOptions['http'];
}

export interface HelpDeskStatus {
  system: string;
  /** Its webhook secret is set: deliveries are accepted. */
  configured: boolean;
  /** Comments (and one-click tickets) can be posted: a URL and credentials, or the local sink. */
  comments: boolean;
  /** Variables to set for webhooks and comments. */
  missing: string[];
}

export interface HelpDesk extends HelpDeskEntry {
  /** Its adapter; undefined while the configuration does not switch it on. */
  adapter(config: Readonly<ServerConfig>, opts: HelpDeskOptions): TicketAdapter | undefined;
  status(config: Readonly<ServerConfig>, opts: { localSink?: boolean }): HelpDeskStatus;
  /** Where a person opens ticket `ticketId` in its web UI; null when unknown (no URL configured, a ref it cannot read). */
  link(ticketing: Readonly<TicketingConfig>, ticketId: string): string | null;
}

type Optional<T extends z.ZodRawShape> = { [K in keyof T]: z.ZodOptional<T[K]> };

/**
 * A vendor's variables, grouped by what they mean, each named once: the one that switches it on,
 * those that open its REST API together, those it needs once it is on, and the rest. The first
 * three groups are optional variables; the rest carry their own default or `.optional()`.
 */
export interface VendorHelpDeskSpec<S extends string, On extends z.ZodRawShape, Api extends z.ZodRawShape, Rest extends z.ZodRawShape, C extends { api?: unknown }, Needs extends z.ZodRawShape = Record<never, never>> {
  readonly system: S;
  readonly switchedOnBy: On;
  readonly api: Api;
  readonly needs?: Needs;
  readonly env: Rest;
  /** Its typed config from its parsed variables; undefined while it is not switched on. */
  config(e: z.output<z.ZodObject<Optional<On> & Optional<Api> & Optional<Needs> & Rest>>): C | undefined;
  createAdapter(config: C, opts: VendorAdapterOptions): TicketAdapter;
  /** The ticket's page in the help desk's web UI, from its config and the ticket ref its adapter made. */
  ticketLink?(config: C, ticketId: string): string | null;
}

/** A vendor in the registry: its system and config types name `config.ticketing.<system>` (help-desks.ts). */
export interface VendorHelpDesk<S extends string, C> extends HelpDesk {
  readonly system: S;
  readonly settings: HelpDeskSettings<z.ZodRawShape, C>;
}

/** The config type a vendor's settings make. */
export type ConfigOf<D> = D extends VendorHelpDesk<string, infer C> ? C : never;

const optional = <T extends z.ZodRawShape>(shape: T) => Object.fromEntries(Object.entries(shape).map(([name, schema]) => [name, z.optional(schema)])) as Optional<T>;

export function vendorHelpDesk<S extends string, On extends z.ZodRawShape, Api extends z.ZodRawShape, Rest extends z.ZodRawShape, C extends { api?: unknown }, Needs extends z.ZodRawShape = Record<never, never>>(
  spec: VendorHelpDeskSpec<S, On, Api, Rest, C, Needs>,
): VendorHelpDesk<S, C> {
  const { system } = spec;
  const [secret] = Object.keys(spec.switchedOnBy);
  if (!secret) throw new AppError('internal', `help desk ${system}: switchedOnBy names no variable`);
  const variables = { secret, api: Object.keys(spec.api), needs: Object.keys(spec.needs ?? {}) };
  // config.ticketing[system] is what spec.config made at load time (shared/config.ts).
  const configOf = (config: Readonly<ServerConfig>) => (config.ticketing as Readonly<Record<string, unknown>>)[system] as C | undefined;
  return {
    system,
    settings: { system, variables, env: { ...optional(spec.switchedOnBy), ...optional(spec.api), ...optional(spec.needs ?? {}), ...spec.env }, config: spec.config },
    adapter(config, opts) {
      const desk = configOf(config);
      return desk && spec.createAdapter(desk, { now: opts.now, commentBurstMs: config.ticketing.commentBurstMs, apiVariables: variables.api, ...(opts.http ? { http: opts.http } : {}) });
    },
    link(ticketing, ticketId) {
      const desk = (ticketing as Readonly<Record<string, unknown>>)[system] as C | undefined;
      return desk && spec.ticketLink ? spec.ticketLink(desk, ticketId) : null;
    },
    status(config) {
      const desk = configOf(config);
      const missing = desk === undefined ? [variables.secret, ...variables.needs] : desk.api ? [] : [...variables.api];
      return { system, configured: desk !== undefined, comments: Boolean(desk?.api), missing };
    },
  };
}
