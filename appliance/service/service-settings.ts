// The service's settings from the environment it is given (validated once at start, a clear error
// naming the variable when wrong): where the Tether page listens. KTETHER_HOME is read by
// loadAgentHome like every other command.
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';

export const DEFAULT_UI_LISTEN = '127.0.0.1:8442';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface ServiceSettings {
  /** null: no page (KTETHER_UI_LISTEN=off). */
  uiListen: ListenAddress | null;
}

const listenSchema = z
  .string()
  .trim()
  .default(DEFAULT_UI_LISTEN)
  .transform((text, ctx): ListenAddress | null => {
    if (text === 'off') return null;
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) {
      ctx.addIssue({ code: 'custom', message: `expected HOST:PORT (e.g. ${DEFAULT_UI_LISTEN}; port 0 = any free port) or off, got "${text}"` });
      return z.NEVER;
    }
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  });

const settingsSchema = z.object({ KTETHER_UI_LISTEN: listenSchema });

export function loadServiceSettings(env: NodeJS.ProcessEnv): ServiceSettings {
  const parsed = settingsSchema.safeParse({ KTETHER_UI_LISTEN: env.KTETHER_UI_LISTEN || undefined });
  if (!parsed.success) throw new AppError('config_invalid', `invalid configuration: KTETHER_UI_LISTEN: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return Object.freeze({ uiListen: parsed.data.KTETHER_UI_LISTEN });
}
