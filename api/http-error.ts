// HTTP-level refusals that are not application errors (bad credentials, unreadable bodies,
// unknown routes). Thrown by routes and hooks; the central error handler turns them into JSON.

export const HTTP_ERROR_CODES = [
  'unauthorized',
  'forbidden',
  'csrf',
  'rate_limited',
  'invalid_body',
  'body_too_large',
  'unsupported_media_type',
  'not_found',
  'unavailable',
  'not_configured',
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
