// The daemon's log file (KTETHER_HOME/ktether.log), one familiar-format line per event. Callers
// pass secret-free text only: session ids and reasons, never key text, seeds or passwords.
import { appendFileSync } from 'node:fs';
import { logLine } from './log-line.js';

export type AgentLog = (message: string) => void;

export function fileLog(path: string, now: () => Date = () => new Date()): AgentLog {
  return (message) => {
    try {
      appendFileSync(path, `${logLine(message, now())}\n`);
    } catch {
      // A full disk must not take the tunnel down.
    }
  };
}
