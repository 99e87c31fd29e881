// Who may reach this session (TETHER_ENGINEER_POLICY): the policy, the ticket's assignee and the
// explicit grants; admins grant a registered engineer or withdraw a grant (their open channels to
// the session close). Every name is rendered as text.
import { api } from '../api.js';
import { errorLine, h, replace, table, time } from '../dom.js';

export function grantsSection(initial, ctx) {
  let session = initial;
  let view = null; // { policy, assignee, grants }
  let engineers = [];
  let problem = null;
  const body = h('div');
  const element = h('section', { class: 'card', 'aria-labelledby': 'grants-h' }, h('h2', { id: 'grants-h' }, 'Who may reach it'), body);
  const url = () => `/v1/sessions/${encodeURIComponent(session.id)}/grants`;

  async function load() {
    try {
      view = await api('GET', url());
      if (ctx.can('admin') && engineers.length === 0) engineers = ((await api('GET', '/v1/engineers')).engineers ?? []).map((e) => e.name);
      problem = null;
    } catch (err) {
      problem = err;
    }
    draw();
  }

  async function change(method, path, payload) {
    try {
      view = await api(method, path, payload);
      problem = null;
    } catch (err) {
      problem = err;
    }
    draw();
  }

  function grantForm() {
    const granted = new Set(view.grants.map((g) => g.engineer));
    const choices = engineers.filter((n) => !granted.has(n));
    if (choices.length === 0) return null;
    const sel = h('select', { id: 'grant-engineer' }, choices.map((n) => h('option', { value: n }, n)));
    return h(
      'form',
      { class: 'inline', onsubmit: (e) => (e.preventDefault(), void change('POST', url(), { engineer: sel.value })) },
      h('label', { for: sel.id }, 'Grant engineer'),
      sel,
      h('button', { type: 'submit', 'data-action': 'grant' }, 'Grant'),
    );
  }

  function draw() {
    if (!view) return replace(body, problem ? errorLine(problem) : h('p', { class: 'muted' }, 'Loading…'));
    const live = session.state !== 'CLOSED';
    const admin = ctx.can('admin') && live;
    const policy =
      view.policy === 'all'
        ? 'Every registered engineer may reach live sessions (TETHER_ENGINEER_POLICY=all).'
        : 'Only engineers granted here, or the engineer the ticket is assigned to, may reach it.';
    const rows = view.grants.map((g) =>
      h(
        'tr',
        { 'data-grant': g.engineer },
        h('td', {}, g.engineer),
        h('td', {}, g.by),
        h('td', {}, time(g.at)),
        h('td', {}, admin ? h('button', { type: 'button', class: 'secondary', 'data-action': 'revoke-grant', 'aria-label': `Withdraw ${g.engineer}'s grant`, onclick: () => void change('DELETE', `${url()}/${encodeURIComponent(g.engineer)}`) }, 'Withdraw') : null),
      ),
    );
    replace(
      body,
      h('p', { class: 'muted' }, policy),
      h('p', {}, 'Ticket assignee: ', view.assignee ? h('strong', { 'data-assignee': '' }, view.assignee) : h('span', { class: 'muted' }, 'none mapped')),
      rows.length ? table(['Engineer', 'Granted by', 'When', ''], rows, { class: 'grants' }) : h('p', { class: 'muted', 'data-no-grants': '' }, 'No explicit grants.'),
      admin ? grantForm() : null,
      problem ? errorLine(problem) : null,
    );
  }

  draw();
  void load();
  return {
    element,
    update(s) {
      session = s;
      draw();
    },
  };
}
