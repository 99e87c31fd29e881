// Issue a key (admin): the form of `tether key issue`; the key is shown once, with a copy button.
import { api } from '../api.js';
import { field, focusHeading, h, replace, select, time } from '../dom.js';
import { busy, errorRegion, secretBox } from '../widgets.js';

export function issueKeyPage(root) {
  const heading = h('h1', {}, 'Issue a key');
  const area = h('div');
  root.append(h('div', { class: 'page-head' }, heading), area);
  showForm();
  focusHeading(root);

  function showForm() {
    const serial = h('input', { name: 'serial', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 64 });
    const product = select('product', [['sma', 'SMA'], ['sda', 'SDA']], 'sma');
    const version = h('input', { name: 'version', autocomplete: 'off', maxlength: 32, placeholder: 'e.g. 14.1' });
    const ttl = h('input', { name: 'ttl', value: '7d', autocomplete: 'off', maxlength: 16, pattern: '\\d+[smhdw]' });
    const ports = h('input', { name: 'ports', autocomplete: 'off', placeholder: 'default: SMA 22,80,443,3306 · SDA 22,80,443', pattern: '\\s*\\d{1,5}(\\s*,\\s*\\d{1,5})*\\s*' });
    const ticket = h('input', { name: 'ticket', autocomplete: 'off', placeholder: 'SYSTEM:ID, e.g. zendesk:4711' });
    const email = h('input', { name: 'email', type: 'email', autocomplete: 'off', placeholder: 'mail the key to the customer (optional)' });
    const errors = errorRegion();
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Issue key');
    const form = h(
      'form',
      {
        class: 'card form',
        onsubmit: async (ev) => {
          ev.preventDefault();
          const body = { serial: serial.value.trim(), product: product.value };
          if (version.value.trim()) body.version = version.value.trim();
          if (ttl.value.trim()) body.ttl = ttl.value.trim();
          if (ports.value.trim()) body.ports = ports.value.split(',').map((p) => Number(p.trim()));
          if (ticket.value.trim()) body.ticket = ticket.value.trim();
          if (email.value.trim()) body.email = email.value.trim();
          const answer = await busy(submit, errors, () => api('POST', '/v1/keys', body));
          if (answer) showKey(answer);
        },
      },
      field('Serial', serial),
      field('Product', product),
      field('Version', version),
      field('Lifetime', ttl, '90s, 2h, 7d, 12w (at most 12 weeks)'),
      field('Ports', ports, 'comma-separated; empty for the product default'),
      field('Ticket', ticket),
      field('Customer e-mail', email),
      errors,
      h('div', { class: 'row' }, submit),
    );
    replace(area, form);
    serial.focus();
  }

  function showKey({ session, key }) {
    const again = h('button', { type: 'button', class: 'secondary', onclick: showForm }, 'Issue another');
    replace(
      area,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, `Key for ${session.serial}`),
        secretBox('Key', key, 'Shown once: copy it now. It cannot be shown again.', 'key'),
        h('p', {}, 'Session ', h('a', { href: `#/sessions/${encodeURIComponent(session.id)}` }, session.id), ', expires ', time(session.expiresAt), '.'),
        h('div', { class: 'row' }, again),
      ),
    );
    area.querySelector('textarea')?.focus();
  }
}
