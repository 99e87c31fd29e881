// The control socket's protocol (KTETHER_HOME/ktether.sock, mode 0600): one JSON object per line,
// versioned. A client sends a request with an id; the service answers with any number of progress
// frames (the familiar lines, as they happen) and then exactly one result or error frame for that
// id. Types and limits only: no zod here, so the CLI client loads in a few milliseconds (the
// service parses requests with control-request.schema.ts).
import { join } from 'node:path';

export const PROTOCOL_VERSION = 1;
export const SOCKET_NAME = 'ktether.sock';
/** A request line longer than this is refused and its connection closed (it cannot be resynced). */
export const MAX_FRAME_BYTES = 64 * 1024;

export function socketPath(home: string): string {
  return join(home, SOCKET_NAME);
}

export type EnableSource = { kind: 'key'; key: string } | { kind: 'description'; description: string } | { kind: 'pending' };

export type ControlRequest =
  | { v: 1; id: number; op: 'status'; inbox?: boolean }
  | { v: 1; id: number; op: 'enable'; source: EnableSource; password?: string; timeoutMs?: number }
  | { v: 1; id: number; op: 'disable' }
  | { v: 1; id: number; op: 'reset'; timeoutMs?: number }
  | { v: 1; id: number; op: 'log'; lines?: number };

/** A familiar line: `say` is printed as `[<date>] [ktether] …` by the client, `raw` as is. */
export type Progress = { say: string } | { raw: string };

export type ServiceFrame =
  | { v: 1; id: number; progress: Progress }
  | { v: 1; id: number; ok: true; result: unknown }
  | { v: 1; id: number | null; ok: false; error: { code: string; message: string } };
