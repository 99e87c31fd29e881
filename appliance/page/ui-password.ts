// The Tether page's local admin password: set with `ktether init --ui-password-file FILE`, kept only
// as an scrypt hash in KTETHER_HOME/ui_password (0600), checked off the event loop at sign-in.
import { existsSync, readFileSync } from 'node:fs';
import { AppError } from '../../shared/errors.js';
import { writeFileAtomic, type AgentPaths } from '../agent-home.js';
import { hashPasswordAsync, verifyPasswordAsync } from '../password-hash.js';

export const MIN_UI_PASSWORD = 10;
const MAX_UI_PASSWORD = 1_024;

/** The password in FILE: its first line (a trailing line break is not part of it). */
export function readUiPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new AppError('usage', `cannot read --ui-password-file ${file}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(password)) throw new AppError('usage', '--ui-password-file must hold the password on one line');
  if (password.length < MIN_UI_PASSWORD) throw new AppError('usage', `--ui-password-file: the page password needs at least ${MIN_UI_PASSWORD} characters`);
  if (password.length > MAX_UI_PASSWORD) throw new AppError('usage', `--ui-password-file: the page password is longer than ${MAX_UI_PASSWORD} characters`);
  return password;
}

export async function writeUiPassword(paths: AgentPaths, password: string): Promise<void> {
  writeFileAtomic(paths.uiPassword, `${await hashPasswordAsync(password)}\n`, 0o600);
}

export function uiPasswordIsSet(paths: AgentPaths): boolean {
  return existsSync(paths.uiPassword);
}

/** False for a wrong password, and when none is set (the page then shows how to set one). */
export async function checkUiPassword(paths: AgentPaths, password: string): Promise<boolean> {
  if (password.length === 0 || password.length > MAX_UI_PASSWORD || !uiPasswordIsSet(paths)) return false;
  return verifyPasswordAsync(readFileSync(paths.uiPassword, 'utf8'), password);
}
