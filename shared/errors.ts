// Coded application errors. Branch on `code`, never on message text; each edge (CLI, HTTP,
// worker, relay) maps codes to its own outcome (exit code, status, UnrecoverableError, refusal).

export const ERROR_CODES = [
  // configuration and usage
  'config_invalid',
  'usage',
  // tether key
  'key_malformed',
  'key_bad_signature',
  'key_unknown_signer',
  'key_wrong_serial',
  'key_expired',
  'key_not_yet_valid',
  'key_already_used',
  'key_sealed_elsewhere',
  'ttl_too_long',
  // sessions and engineers
  'session_not_found',
  'session_closed',
  'illegal_transition',
  /** The session's expiry moved after the caller read it (an extension): the step was not taken. */
  'session_expiry_moved',
  'engineer_not_found',
  'engineer_invalid_key',
  // relay and agent
  'relay_unreachable',
  'relay_host_key_mismatch',
  'relay_refused',
  'crypto_binding_missing',
  'agent_not_initialised',
  'agent_busy',
  'agent_not_running',
  'account_failed',
  'doctor_failed',
  // appliance enrolment, one-click, push and password custody
  'appliance_not_enrolled',
  'enrolment_token_invalid',
  'version_unsupported',
  'inbox_empty',
  'api_unreachable',
  'api_refused',
  'engineer_not_authorised',
  'credentials_unavailable',
  // operators
  'operator_not_found',
  'operator_exists',
  'forbidden',
  // infrastructure
  'redis_unreachable',
  'help_desk_busy',
  /** A ticket's key-issue job is running, so a new request with its id would be dropped: retry later. */
  'key_issue_running',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

interface IssueLike {
  path?: readonly PropertyKey[];
  message?: string;
}

/** The first problem a schema found, as one line `path: message` (`whole` names an empty path): every 400 and refusal says it this way. */
export function firstIssue(error: { issues: readonly IssueLike[] }, whole = 'body'): string {
  const issue = error.issues[0];
  if (!issue) return `invalid ${whole}`;
  return `${(issue.path ?? []).map(String).join('.') || whole}: ${(issue.message ?? 'invalid').split('\n')[0]}`;
}

/** A one-line, secret-free description of any thrown value, for logs and stderr. */
export function describeError(err: unknown): string {
  // zod errors carry their issues as a JSON message; name each field and problem on one line.
  const issues = (err as { issues?: unknown } | null)?.issues;
  if (Array.isArray(issues) && issues.length > 0) {
    return `invalid data: ${issues
      .map((i: { path?: unknown[]; message?: string }) => `${(i.path ?? []).join('.') || '(value)'}: ${i.message ?? 'invalid'}`)
      .join('; ')}`;
  }
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err).split('\n')[0] ?? 'unknown error';
}
