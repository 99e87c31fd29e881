// What the server's configuration check says about an environment, for tests of its messages.
import { expect } from 'vitest';
import { loadServerConfig, type HelpDeskEntry } from '../../shared/config.js';

/** The message loadServerConfig throws for `env` (with `helpDesks`' variables), or '' when it accepts it. */
export function configProblems(env: Record<string, string>, helpDesks: readonly HelpDeskEntry[] = []): string {
  try {
    loadServerConfig(env, helpDesks);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

/** Asserts that `message` names every one of `problems` (each a part of it, usually `VARIABLE: why`). */
export function expectProblems(message: string, problems: readonly string[]): void {
  for (const problem of problems) expect(message).toContain(problem);
}
