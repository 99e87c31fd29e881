// Builds DOM nodes for the console. Text goes in through text nodes only (never innerHTML): ticket
// subjects, serials and engineer names are untrusted and must stay inert. Links take only http(s) URLs.

/**
 * h('a', { href, class, onclick }, 'text', child, [more]) — attributes are set with setAttribute,
 * `on*` functions become listeners, children are nodes or strings (as text).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'value' && 'value' in el) el.value = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  return append(clear(el), children);
}

/** The URL if it is http(s), else undefined: a `javascript:` ticket link from a help desk is dropped. */
export function safeHttpUrl(url) {
  if (typeof url !== 'string') return undefined;
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}

const pad = (n) => String(n).padStart(2, '0');

/** "2025-12-05 22:51:03" in local time, inside <time datetime=ISO>. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', {}, String(iso));
  return h('time', { datetime: d.toISOString(), title: d.toISOString() }, timeText(iso));
}

/** "2025-12-05 22:51:03" for a time in ms or ISO; '' when it is not one. */
export function timeText(value) {
  const d = new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Audit fields as "k=v" pairs: empty ones left out, times (`…At` in ms) readable. */
export function auditFields(fields, skip = new Set()) {
  return Object.entries(fields ?? {})
    .filter(([k, v]) => !skip.has(k) && v !== '' && v !== undefined && v !== null)
    .map(([k, v]) => [k, /At$/.test(k) && /^\d{12,}$/.test(String(v)) ? timeText(v) : String(v)]);
}

/** "in 1 h 59 min" / "3 min ago". */
export function relative(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  if (Number.isNaN(ms)) return '';
  const abs = Math.abs(ms);
  const min = Math.round(abs / 60_000);
  let text;
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (min < 120) text = `${min} min`;
  else if (min < 48 * 60) text = `${Math.floor(min / 60)} h ${min % 60} min`;
  else text = `${Math.floor(min / 1440)} d ${Math.floor((min % 1440) / 60)} h`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

export function bytes(n) {
  if (n === undefined || n === null || n === '') return '—';
  const v = Number(n);
  if (!Number.isFinite(v)) return String(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  if (v < 1024 ** 3) return `${(v / 1024 / 1024).toFixed(1)} MiB`;
  return `${(v / 1024 ** 3).toFixed(2)} GiB`;
}

const REASONS = {
  customer_disabled: 'disabled by customer',
  expired: 'expired',
  revoked: 'revoked',
  ticket_closed: 'ticket closed',
  superseded: 'superseded',
};

/** The state as a badge: "CLOSED (revoked)". */
export function stateBadge(state, reason) {
  const label = state === 'CLOSED' && reason ? `${state} (${reason})` : state;
  return h('span', { class: `badge state-${String(state).toLowerCase()}`, title: reason ? REASONS[reason] ?? reason : undefined, 'data-state': state }, label);
}

export function ticketLabel(ticket) {
  if (!ticket) return h('span', { class: 'muted' }, '—');
  const text = `${ticket.system} ${ticket.id}`;
  const url = safeHttpUrl(ticket.url);
  return url ? h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, text) : h('span', {}, text);
}

/** A polite live region, for "Copied" and similar confirmations. */
export function status(text = '') {
  return h('span', { class: 'status-text', role: 'status', 'aria-live': 'polite' }, text);
}

/** An error line that screen readers announce. */
export function errorLine(err) {
  return h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err));
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function select(name, options, value) {
  return h(
    'select',
    { name },
    options.map(([v, text]) => {
      const o = h('option', { value: v }, text);
      if (v === value) o.selected = true;
      return o;
    }),
  );
}

export function table(headers, rows, attrs = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', attrs, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)),
  );
}

/** Focuses the page heading after navigation, so keyboard and screen-reader users start at the top. */
export function focusHeading(root) {
  const h1 = root.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
}
