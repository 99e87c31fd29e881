// Appliances: the enrolled ones (serial, product, version, since when) and, for admins, an
// enrolment token for a serial (shown once).
import { api } from '../api.js';
import { errorLine, field, focusHeading, h, replace, select, table, time, timeText } from '../dom.js';
import { busy, errorRegion, secretBox } from '../widgets.js';

export function appliancesPage(root, ctx) {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Appliances')), ctx.can('admin') ? tokenForm() : null, h('section', { class: 'card', 'aria-labelledby': 'enrolled-h' }, h('h2', { id: 'enrolled-h' }, 'Enrolled appliances'), list));
  focusHeading(root);

  void (async () => {
    try {
      const answer = await api('GET', '/v1/appliances');
      const rows = (answer.appliances ?? []).map((a) =>
        h('tr', { 'data-serial': a.serial }, h('td', {}, a.serial), h('td', {}, String(a.product ?? '').toUpperCase()), h('td', {}, a.version ?? '—'), h('td', {}, time(a.enrolledAt)), h('td', {}, time(a.updatedAt))),
      );
      replace(list, rows.length ? table(['Serial', 'Product', 'Version', 'Enrolled', 'Last update'], rows) : h('p', { class: 'muted' }, 'No appliance is enrolled yet.'));
    } catch (err) {
      replace(list, errorLine(err));
    }
  })();
}

function tokenForm() {
  const serial = h('input', { name: 'serial', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 64 });
  const ttl = select('ttl', [['15m', '15 minutes'], ['1h', '1 hour'], ['4h', '4 hours'], ['24h', '24 hours']], '1h');
  const errors = errorRegion();
  const out = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create enrolment token');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'token-h' },
    h('h2', { id: 'token-h' }, 'Enrolment token'),
    h('p', { class: 'muted' }, 'Given once to the appliance (ktether enroll --api URL --token TOKEN) so it registers its identity keys. Single use.'),
    h(
      'form',
      {
        class: 'form inline-form',
        onsubmit: async (ev) => {
          ev.preventDefault();
          const answer = await busy(submit, errors, () => api('POST', '/v1/appliances/tokens', { serial: serial.value.trim(), ttl: ttl.value }));
          if (!answer) return;
          replace(out, secretBox('Enrolment token', answer.token, `Shown once; valid until ${timeText(answer.expiresAt)}.`, 'enrolment-token'));
          out.querySelector('textarea')?.focus();
        },
      },
      field('Serial', serial),
      field('Valid for', ttl),
      h('div', { class: 'field actions' }, submit),
    ),
    errors,
    out,
  );
}
