// Turns pino's JSON lines into one readable line each for a person at a console:
// `15:02:11 WARN  relay: authentication refused user=alice reason="…"`. The full JSON still goes to
// the log file; this is only what a newcomer running scripts/up sees.
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'role', 'component', 'v']);

function value(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[\w.:/@-]+$/.test(text) ? text : JSON.stringify(text);
}

/** One JSON log line → one human line (unparseable input passes through unchanged). */
export function humanLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const time = new Date(typeof o.time === 'number' ? o.time : Date.now()).toISOString().slice(11, 19);
  const level = (LEVELS[Number(o.level)] ?? 'INFO').padEnd(5);
  const where = typeof o.role === 'string' ? `${o.role}: ` : typeof o.component === 'string' ? `${o.component}: ` : '';
  const rest = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return `${time} ${level} ${where}${String(o.msg ?? '')}${rest ? ` ${rest}` : ''}`;
}

/** A stream pino can write to that prints human lines to `out`. */
export function humanLogStream(out: NodeJS.WritableStream = process.stderr): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        out.write(`${humanLine(pending.slice(0, nl))}\n`);
        pending = pending.slice(nl + 1);
      }
      done();
    },
  });
}
