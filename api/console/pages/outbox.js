// The captured outbox (admin, development only: the embedded SMTP capture): who got which mail.
// A mail is shown as plain text; an HTML part is untrusted and never rendered.
import { api } from '../api.js';
import { errorLine, focusHeading, h, replace, time } from '../dom.js';

export function outboxPage(root) {
  const tbody = h('tbody');
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load() }, 'Older mail');
  const viewer = h('div');
  const mails = h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['Captured', 'To', 'Subject', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody));
  let cursor;
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Outbox')),
    h('p', { class: 'muted' }, 'Mail caught by the development SMTP capture. Mails may hold usable keys.'),
    h('section', { class: 'card' }, list, h('div', { class: 'row' }, more)),
    viewer,
  );
  focusHeading(root);

  async function open(file) {
    try {
      const mail = await api('GET', `/v1/outbox/${encodeURIComponent(file)}`);
      const body = mail.text ?? (mail.html ? `(HTML only, shown as source)\n\n${mail.html}` : '(no text part)');
      replace(
        viewer,
        h(
          'section',
          { class: 'card', 'aria-labelledby': 'mail-h' },
          h('h2', { id: 'mail-h', tabindex: '-1' }, mail.subject || file),
          h('p', { class: 'muted' }, `From ${mail.from} to ${mail.to}${mail.date ? ` · ${mail.date}` : ''}`),
          h('pre', { class: 'mail' }, body),
        ),
      );
      viewer.querySelector('h2')?.focus();
    } catch (err) {
      replace(viewer, errorLine(err));
    }
  }

  async function load() {
    try {
      const answer = await api('GET', '/v1/outbox', undefined, { limit: 50, cursor });
      for (const m of answer.mails ?? []) {
        tbody.append(
          h(
            'tr',
            { 'data-mail': m.file },
            h('td', { class: 'nowrap' }, time(m.date)),
            h('td', {}, m.to),
            h('td', {}, m.subject),
            h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': `Show mail ${m.subject}`, onclick: () => open(m.file) }, 'Show')),
          ),
        );
      }
      cursor = answer.nextCursor ?? undefined;
      more.hidden = !cursor;
      if (!tbody.children.length) replace(list, h('p', { class: 'muted' }, 'Nothing captured yet.'));
      else if (!list.contains(mails)) replace(list, mails);
    } catch (err) {
      replace(list, err.status === 404 ? h('p', { class: 'muted' }, 'The outbox exists only in development, when the server runs its own SMTP capture (no SMTP_URL).') : errorLine(err));
    }
  }
  void load();
}
