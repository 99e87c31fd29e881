// Owner-only storage under TETHER_HOME (keys, outbox, run, redis): folders 0700, files 0600,
// including what an older version left wider. Call it only on folders that are ours alone
// (TETHER_HOME and below), never on a shared parent such as the system temp dir.
import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Entries can vanish mid-walk (another process renaming its temporary file into place): skipped. */
function tighten(path: string, mode: number, failed: string[]): void {
  try {
    if ((lstatSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
  } catch (err) {
    if (!isMissing(err)) failed.push(path); // not ours (another owner): the caller says so; never widened or deleted
  }
}

/**
 * Creates `root` owner-only when missing, then sets every folder below it to 0700 and every file
 * to 0600. Symlinks are not followed. Returns the paths it could not change (empty normally).
 */
export function makeOwnerOnly(root: string): string[] {
  mkdirSync(root, { recursive: true, mode: PRIVATE_DIR_MODE });
  const failed: string[] = [];
  const walk = (dir: string) => {
    tighten(dir, PRIVATE_DIR_MODE, failed);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (!isMissing(err)) failed.push(dir);
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) tighten(path, PRIVATE_FILE_MODE, failed);
    }
  };
  walk(root);
  return failed;
}

/** Writes under a temporary name (0600 whatever the umask) and renames: never half a file, never readable by others. */
export function writePrivateFile(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode: PRIVATE_FILE_MODE });
  chmodSync(tmp, PRIVATE_FILE_MODE); // a leftover tmp from a crash keeps its old mode on overwrite
  renameSync(tmp, path);
}
