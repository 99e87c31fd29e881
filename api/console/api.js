// The console's only way to the server: JSON calls to the operator API with the session cookie,
// and the X-CSRF-Token header on every change. The API decides everything; this only carries it.

let csrf = null;
let onUnauthorized = () => {};

export function setCsrf(value) {
  csrf = value ?? null;
}

/** Called when an answer says the console session is gone (401), except for sign-in itself. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** api('GET', '/v1/sessions', undefined, { state: 'CONNECTED' }) → parsed JSON, or throws ApiError. */
export async function api(method, path, body, query) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  const headers = { accept: 'application/json' };
  if (CHANGES.has(method) && csrf) headers['x-csrf-token'] = csrf;
  // Fastify refuses an empty JSON body, so a POST without one sends `{}`; a DELETE sends nothing.
  let payload;
  if (body !== undefined || method === 'POST') {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'The server did not answer. Check the connection and try again.');
  }
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const err = data && typeof data === 'object' && data.error ? data.error : {};
    const error = new ApiError(res.status, err.code ?? `http_${res.status}`, err.message ?? `${method} ${url.pathname} failed with ${res.status}`);
    if (res.status === 401 && path !== '/v1/console/session') onUnauthorized(error);
    throw error;
  }
  return data;
}

/** Writes text to the clipboard; falls back to a selected textarea where the async API is missing (plain http). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // fall through to the selection fallback
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('Copying is not possible here: select the text and copy it.');
}
