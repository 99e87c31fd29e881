// The last lines of the agent's log (ktether.log), read from its end: the Tether page and the control
// socket's `log` show them. Reads at most the last 256 KiB, so a long-lived log costs nothing more.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const MAX_BYTES = 256 * 1024;

/** The last `count` lines of `file`; none when it does not exist yet. */
export function tailLines(file: string, count: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, MAX_BYTES);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const lines = buf.toString('utf8').split('\n').filter((l) => l !== '');
    // A cut through the first line leaves a fragment: drop it unless the whole file was read.
    if (length < size) lines.shift();
    return lines.slice(-count);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
