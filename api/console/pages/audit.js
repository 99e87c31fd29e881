// Audit search: newest first, filtered by type, actor, serial and session, a page at a time
// (the API's cursor; earlier cursors are kept so "Newer" goes back).
import { api } from '../api.js';
import { auditFields, errorLine, field, focusHeading, h, replace, table, time } from '../dom.js';

const PAGE = 50;
const FILTERS = ['type', 'actor', 'serial', 'sid'];

export function auditPage(root, ctx) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, ctx.query.get(k) ?? '']));
  const cursors = [undefined]; // cursors[i] starts page i
  let pageIndex = 0;
  const results = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const position = h('span', { class: 'muted', 'aria-live': 'polite' });
  const newer = h('button', { type: 'button', class: 'secondary', disabled: true, onclick: () => show(pageIndex - 1) }, '← Newer');
  const older = h('button', { type: 'button', class: 'secondary', disabled: true, onclick: () => show(pageIndex + 1) }, 'Older →');

  const inputs = Object.fromEntries(FILTERS.map((k) => [k, h('input', { type: 'search', name: k, value: filters[k], autocomplete: 'off', spellcheck: 'false' })]));
  inputs.type.placeholder = 'e.g. credential.revealed';
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Search the audit',
      onsubmit: (ev) => {
        ev.preventDefault();
        for (const k of FILTERS) filters[k] = inputs[k].value.trim();
        const qs = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
        history.replaceState(null, '', `#/audit${qs ? `?${qs}` : ''}`);
        cursors.length = 1;
        void show(0);
      },
    },
    field('Type', inputs.type),
    field('Actor', inputs.actor),
    field('Serial', inputs.serial),
    field('Session id', inputs.sid),
    h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, 'Search')),
  );
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Audit')), form, results, h('nav', { class: 'pager', 'aria-label': 'Audit pages' }, newer, position, older));
  focusHeading(root);

  async function show(index) {
    try {
      const answer = await api('GET', '/v1/audit', undefined, { ...filters, limit: PAGE, cursor: cursors[index] });
      pageIndex = index;
      cursors[index + 1] = answer.nextCursor ?? null;
      const entries = answer.entries ?? [];
      replace(results, entries.length ? table(['Time', 'Type', 'Actor', 'Serial', 'Session', 'Details'], entries.map(row), { class: 'audit' }) : h('p', { class: 'muted' }, 'No entries match.'));
      newer.disabled = index === 0;
      older.disabled = !answer.nextCursor;
      position.textContent = `Page ${index + 1}`;
    } catch (err) {
      replace(results, errorLine(err));
    }
  }
  void show(0);
}

function row(e) {
  const details = auditFields(e.fields).map(([k, v]) => h('span', { class: 'kv' }, h('span', { class: 'k' }, k), '=', v));
  return h(
    'tr',
    { 'data-audit': e.id, 'data-type': e.type },
    h('td', { class: 'nowrap' }, time(e.at)),
    h('td', {}, h('code', {}, e.type)),
    h('td', { class: 'actor' }, e.actor ?? '—'),
    h('td', {}, e.serial ?? '—'),
    h('td', {}, e.sid ? h('a', { href: `#/sessions/${encodeURIComponent(e.sid)}`, title: e.sid }, e.sid.slice(0, 8)) : '—'),
    h('td', { class: 'details' }, details),
  );
}
