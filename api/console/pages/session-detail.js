// One session: ticket, product and version, ports with their ssh commands, expiry, the transition
// timeline and the engineer channels; the actions the operator's role allows. Reloads itself on
// every transition of this session.
import { api } from '../api.js';
import { auditFields, bytes, errorLine, focusHeading, h, relative, replace, stateBadge, table, ticketLabel, time } from '../dom.js';
import { onLiveState, onSession } from '../live.js';
import { liveIndicator } from '../widgets.js';
import { sessionActions } from './session-actions.js';
import { grantsSection } from './session-grants.js';
import { portsSection } from './session-ports.js';

export function sessionDetailPage(root, ctx) {
  const [sid] = ctx.params;
  const [indicator, stopIndicator] = liveIndicator();
  const body = h('div', { class: 'detail' }, h('p', { class: 'muted' }, 'Loading…'));
  const title = h('h1', {}, 'Session');
  root.append(h('p', {}, h('a', { href: '#/sessions' }, '← Sessions')), h('div', { class: 'page-head' }, title, indicator), body);
  focusHeading(root);
  let ports = null; // kept across reloads: it holds the chosen engineer and fetched commands
  let grants = null;

  async function load() {
    try {
      const detail = await api('GET', `/v1/sessions/${encodeURIComponent(sid)}`);
      render(detail);
    } catch (err) {
      replace(body, errorLine(err));
    }
  }

  function render({ session: s, timeline = [], channels = [] }) {
    replace(title, s.serial, ' ', stateBadge(s.state, s.reason));
    title.dataset.state = s.state;
    ports ??= portsSection(s, ctx);
    ports.update(s);
    grants ??= grantsSection(s, ctx);
    grants.update(s);
    replace(
      body,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'tether-h' },
        h('h2', { id: 'tether-h' }, 'Tether'),
        h(
          'dl',
          { class: 'facts' },
          fact('Ticket', h('span', {}, ticketLabel(s.ticket), s.ticket?.subject ? h('span', { class: 'subject', 'data-subject': '' }, ` — ${s.ticket.subject}`) : null), true),
          fact('Product', `${s.product.toUpperCase()}${s.version ? ` ${s.version}` : ''}`),
          fact('State', stateBadge(s.state, s.reason)),
          fact('Issued', time(s.issuedAt)),
          fact('Activated', time(s.activatedAt)),
          s.state === 'CLOSED' ? fact('Closed', time(s.closedAt)) : fact('Expires', h('span', {}, time(s.expiresAt), h('span', { class: 'muted nowrap' }, ` (${relative(s.expiresAt)})`))),
          s.email ? fact('Key mailed to', s.email) : null,
          fact('Session id', h('code', {}, s.id)),
        ),
        sessionActions(s, ctx, load),
      ),
      ports.element,
      grants.element,
      h('section', { class: 'card', 'aria-labelledby': 'channels-h' }, h('h2', { id: 'channels-h' }, 'Engineer channels'), channelsTable(channels)),
      h('section', { class: 'card', 'aria-labelledby': 'timeline-h' }, h('h2', { id: 'timeline-h' }, 'Timeline'), timelineList(timeline)),
    );
  }

  const stopEvents = onSession((ev) => {
    if (ev.sid === sid) void load();
  });
  const stopResync = onLiveState((state, was) => {
    if (state === 'live' && was === 'reconnecting') void load();
  });
  void load();
  return () => {
    stopEvents();
    stopResync();
    stopIndicator();
  };
}

function fact(label, value, wide = false) {
  return h('div', { class: wide ? 'fact wide' : 'fact' }, h('dt', {}, label), h('dd', {}, value));
}

function channelsTable(channels) {
  if (!channels.length) return h('p', { class: 'muted' }, 'No engineer has opened a channel to this appliance.');
  return table(
    ['Engineer', 'Port', 'Opened', 'Closed', 'Bytes to appliance', 'Bytes from appliance'],
    channels.map((c) =>
      h(
        'tr',
        { 'data-channel': c.engineer },
        h('td', {}, c.engineer),
        h('td', {}, String(c.port)),
        h('td', {}, time(c.openedAt)),
        h('td', {}, c.closedAt ? time(c.closedAt) : h('span', { class: 'badge state-connected' }, 'open')),
        h('td', {}, bytes(c.bytesIn)),
        h('td', {}, bytes(c.bytesOut)),
      ),
    ),
    { class: 'channels' },
  );
}

const SKIP = new Set(['sid', 'serial', 'actor']);

function timelineList(entries) {
  if (!entries.length) return h('p', { class: 'muted' }, 'Nothing recorded yet.');
  return h(
    'ol',
    { class: 'timeline' },
    entries.map((e) =>
      h(
        'li',
        { 'data-type': e.type },
        h('span', { class: 'when' }, time(e.at)),
        h('span', { class: 'what' }, e.type),
        h('span', { class: 'who' }, e.actor ? `by ${e.actor}` : ''),
        h(
          'span',
          { class: 'details muted' },
          auditFields(e.fields, SKIP)
            .map(([k, v]) => `${k}=${v}`)
            .join('  '),
        ),
      ),
    ),
  );
}
