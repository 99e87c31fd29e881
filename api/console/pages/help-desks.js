// Help desks: which accept webhooks and get comments back (and what is missing), the newest
// delivery, and the jobs of their tickets that failed for good.
import { api } from '../api.js';
import { errorLine, focusHeading, h, replace, table, time } from '../dom.js';

export function helpDesksPage(root) {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Help desks')), h('section', { class: 'card' }, list));
  focusHeading(root);
  const yes = (on, onText, offText) => h('span', { class: `badge ${on ? 'state-connected' : 'state-closed'}` }, on ? onText : offText);
  void (async () => {
    try {
      const answer = await api('GET', '/v1/help-desks');
      const rows = (answer.helpDesks ?? []).map((d) =>
        h(
          'tr',
          { 'data-system': d.system },
          h('td', {}, h('strong', {}, d.system)),
          h('td', {}, yes(d.configured, 'accepted', 'not configured')),
          h('td', {}, yes(d.comments, 'posted', 'off')),
          h('td', { class: 'small' }, d.missing?.length ? d.missing.map((m) => h('code', { class: 'var' }, m)) : h('span', { class: 'muted' }, '—')),
          h('td', { class: 'nowrap' }, time(d.lastDelivery)),
          h('td', { class: d.failures ? 'warn' : '' }, String(d.failures ?? 0), d.lastFailure ? h('div', { class: 'muted small' }, 'last ', time(d.lastFailure)) : null),
        ),
      );
      replace(list, rows.length ? table(['System', 'Webhooks', 'Comments', 'Missing settings', 'Last delivery', 'Failed jobs'], rows) : h('p', { class: 'muted' }, 'No help desk is known.'));
    } catch (err) {
      replace(list, errorLine(err));
    }
  })();
}
