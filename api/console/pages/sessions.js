// Sessions: newest first, filtered by state, serial, ticket and product (kept in the address so a
// filtered view can be shared), updated live from /v1/events without a reload.
import { api } from '../api.js';
import { errorLine, field, focusHeading, h, relative, replace, select, stateBadge, ticketLabel, time } from '../dom.js';
import { onLiveState, onSession } from '../live.js';
import { liveIndicator } from '../widgets.js';

const STATES = ['ISSUED', 'CONNECTED', 'LOST', 'CLOSED'];
const FILTERS = ['state', 'serial', 'ticket', 'product'];
const PAGE = 50;

export function sessionsPage(root, ctx) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, ctx.query.get(k) ?? '']));
  const rows = new Map(); // sid → { tr, session }
  const tbody = h('tbody', { 'data-sessions': '' });
  const empty = h('p', { class: 'muted empty', hidden: true });
  const errors = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load(false) }, 'Load more');
  let cursor = null;
  let generation = 0;

  const [indicator, stopIndicator] = liveIndicator();
  const form = filterForm(filters, (next) => {
    Object.assign(filters, next);
    const qs = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    // replaceState: the address follows the filters without a history entry per keystroke.
    history.replaceState(null, '', `#/sessions${qs ? `?${qs}` : ''}`);
    void load(true);
  });

  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Sessions'), indicator, ctx.can('admin') ? h('a', { class: 'button primary', href: '#/keys/new' }, 'Issue a key') : null),
    form,
    errors,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'sessions' },
        h('caption', { class: 'offscreen' }, 'Sessions, newest first'),
        h('thead', {}, h('tr', {}, ['Serial', 'State', 'Product', 'Ticket', 'Issued', 'Expires'].map((t) => h('th', { scope: 'col' }, t)))),
        tbody,
      ),
    ),
    empty,
    h('div', { class: 'row' }, more),
  );
  focusHeading(root);

  function rowFor(s) {
    const tr = h(
      'tr',
      { 'data-sid': s.id, 'data-serial': s.serial },
      h('td', {}, h('a', { href: `#/sessions/${encodeURIComponent(s.id)}`, class: 'serial' }, s.serial)),
      h('td', { class: 'state' }, stateBadge(s.state, s.reason)),
      h('td', {}, s.product.toUpperCase(), s.version ? h('span', { class: 'muted' }, ` ${s.version}`) : null),
      h('td', { class: 'ticket' }, ticketLabel(s.ticket), s.ticket?.subject ? h('div', { class: 'subject', 'data-subject': '' }, s.ticket.subject) : null),
      h('td', {}, time(s.issuedAt)),
      h('td', {}, s.state === 'CLOSED' ? h('span', { class: 'muted' }, '—') : h('span', { title: s.expiresAt }, relative(s.expiresAt))),
    );
    return tr;
  }

  function put(s, { top = false, flash = false } = {}) {
    const tr = rowFor(s);
    const existing = rows.get(s.id);
    if (existing) existing.tr.replaceWith(tr);
    else if (top) tbody.prepend(tr);
    else tbody.append(tr);
    rows.set(s.id, { tr, session: s });
    if (flash) tr.classList.add('flash');
    empty.hidden = rows.size > 0;
  }

  async function load(reset) {
    const mine = reset ? ++generation : generation;
    errors.replaceChildren();
    try {
      const answer = await api('GET', '/v1/sessions', undefined, { ...filters, limit: PAGE, cursor: reset ? undefined : cursor });
      if (mine !== generation) return;
      if (reset) {
        rows.clear();
        tbody.replaceChildren();
      }
      for (const s of answer.sessions) put(s);
      cursor = answer.nextCursor ?? null;
      more.hidden = !cursor;
      empty.textContent = FILTERS.some((k) => filters[k]) ? 'No sessions match these filters.' : 'No sessions yet. Issue a key, or wait for a ticket that asks for a tether.';
      empty.hidden = rows.size > 0;
    } catch (err) {
      replace(errors, errorLine(err));
    }
  }

  // A transition of a shown session updates its row from the event alone (no request per event,
  // however many watch); an unknown session (just activated) is looked up once and shown on top if
  // it matches the filters.
  const stopEvents = onSession(async (ev) => {
    const known = rows.get(ev.sid);
    if (known) return put({ ...known.session, state: ev.to, reason: ev.reason, ...(ev.expiresAt ? { expiresAt: ev.expiresAt } : {}) }, { flash: true });
    try {
      const { session } = await api('GET', `/v1/sessions/${encodeURIComponent(ev.sid)}`);
      if (rows.has(session.id)) put(session, { flash: true });
      else if (matches(session, filters)) put(session, { top: true, flash: true });
    } catch {
      // Gone, or not ours to see: nothing to show.
    }
  });
  // Events are not replayed after a reconnect: reload what is shown.
  const stopResync = onLiveState((state, was) => {
    if (state === 'live' && was === 'reconnecting') void load(true);
  });

  void load(true);
  return () => {
    stopEvents();
    stopResync();
    stopIndicator();
  };
}

/** The API's filters, for a session that arrives by event: serial exact, ticket SYSTEM:ID or the id alone. */
function matches(s, f) {
  if (f.state && s.state !== f.state) return false;
  if (f.product && s.product !== f.product) return false;
  if (f.serial && s.serial.toUpperCase() !== f.serial.toUpperCase()) return false;
  if (f.ticket) {
    if (!s.ticket || (`${s.ticket.system}:${s.ticket.id}` !== f.ticket && s.ticket.id !== f.ticket)) return false;
  }
  return true;
}

function filterForm(filters, onChange) {
  const state = select('state', [['', 'Any state'], ...STATES.map((s) => [s, s])], filters.state);
  const product = select('product', [['', 'Any product'], ['sma', 'SMA'], ['sda', 'SDA']], filters.product);
  const serial = h('input', { type: 'search', name: 'serial', value: filters.serial, autocomplete: 'off', placeholder: 'exact serial' });
  const ticket = h('input', { type: 'search', name: 'ticket', value: filters.ticket, autocomplete: 'off', placeholder: 'e.g. zendesk:4711' });
  const read = () => ({ state: state.value, product: product.value, serial: serial.value.trim(), ticket: ticket.value.trim() });
  let timer;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(read()), 250);
  };
  state.addEventListener('change', () => onChange(read()));
  product.addEventListener('change', () => onChange(read()));
  serial.addEventListener('input', soon);
  ticket.addEventListener('input', soon);
  const reset = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: () => {
        state.value = '';
        product.value = '';
        serial.value = '';
        ticket.value = '';
        onChange(read());
      },
    },
    'Clear filters',
  );
  return h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter sessions', onsubmit: (ev) => (ev.preventDefault(), onChange(read())) },
    field('State', state),
    field('Serial', serial),
    field('Ticket', ticket),
    field('Product', product),
    h('div', { class: 'field actions' }, reset),
  );
}
