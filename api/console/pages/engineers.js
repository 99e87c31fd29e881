// Engineers: who may open channels through the relay, with their key fingerprints; admins add a
// public key (a new engineer, or another key of one) and remove engineers.
import { api } from '../api.js';
import { errorLine, field, focusHeading, h, replace, table, time } from '../dom.js';
import { busy, confirmDialog, errorRegion } from '../widgets.js';

export function engineersPage(root, ctx) {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const errors = errorRegion();
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Engineers')),
    ctx.can('admin') ? addForm(load) : null,
    h('section', { class: 'card', 'aria-labelledby': 'engineers-h' }, h('h2', { id: 'engineers-h' }, 'Registered engineers'), errors, list),
  );
  focusHeading(root);

  async function load() {
    try {
      const answer = await api('GET', '/v1/engineers');
      const rows = (answer.engineers ?? []).map((e) => {
        const remove = ctx.can('admin')
          ? h(
              'button',
              {
                type: 'button',
                class: 'danger small',
                'aria-label': `Remove engineer ${e.name}`,
                onclick: async () => {
                  const sure = await confirmDialog({ title: `Remove ${e.name}?`, body: 'Their open connections through the relay end now, and their keys stop working.', confirm: 'Remove', danger: true });
                  if (sure && (await busy(remove, errors, () => api('DELETE', `/v1/engineers/${encodeURIComponent(e.name)}`))) !== undefined) void load();
                },
              },
              'Remove',
            )
          : null;
        return h(
          'tr',
          { 'data-engineer': e.name },
          h('td', {}, e.name),
          h('td', {}, h('ul', { class: 'plain' }, (e.keys ?? []).map((k) => h('li', {}, h('code', {}, k.fingerprint), k.comment ? h('span', { class: 'muted' }, ` ${k.comment}`) : null)))),
          h('td', {}, time(e.addedAt)),
          ctx.can('admin') ? h('td', {}, remove) : null,
        );
      });
      const headers = ['Name', 'Keys', 'Added', ...(ctx.can('admin') ? [''] : [])];
      replace(list, rows.length ? table(headers, rows) : h('p', { class: 'muted' }, 'No engineer is registered yet.'));
    } catch (err) {
      replace(list, errorLine(err));
    }
  }
  void load();
}

function addForm(reload) {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off', spellcheck: 'false', pattern: '[a-z][a-z0-9._\\-]{0,31}', maxlength: 32 });
  const pubkey = h('textarea', { name: 'pubkey', required: true, rows: 3, spellcheck: 'false', placeholder: 'ssh-ed25519 AAAAC3Nz… alice@laptop' });
  const errors = errorRegion();
  const done = h('p', { class: 'notice', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add public key');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'add-engineer-h' },
    h('h2', { id: 'add-engineer-h' }, 'Add a public key'),
    h(
      'form',
      {
        class: 'form',
        onsubmit: async (ev) => {
          ev.preventDefault();
          done.textContent = '';
          const answer = await busy(submit, errors, () => api('POST', '/v1/engineers', { name: name.value.trim(), pubkey: pubkey.value.trim() }));
          if (answer === undefined) return;
          done.textContent = `Key added for ${name.value.trim()}.`;
          name.value = '';
          pubkey.value = '';
          void reload();
        },
      },
      field('Engineer name', name, 'lower-case letters, digits, ".", "_" or "-"'),
      field('Public key', pubkey, 'one OpenSSH public key line (the .pub file), never the private key'),
      errors,
      done,
      h('div', { class: 'row' }, submit),
    ),
  );
}
