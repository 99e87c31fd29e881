// The ports of a session with a "copy ssh command" button each, for the engineer chosen here
// (the relay authenticates engineers by their registered key, so the command names one).
import { api } from '../api.js';
import { errorLine, h, replace, table } from '../dom.js';
import { copyButton } from '../widgets.js';

export function portsSection(initial, ctx) {
  let session = initial;
  let engineers = null;
  let chosen = null;
  let answer = null; // { config, commands } for `chosen`
  const body = h('div');
  const element = h('section', { class: 'card', 'aria-labelledby': 'ports-h' }, h('h2', { id: 'ports-h' }, 'Ports'), body);

  async function fetchCommands() {
    answer = null;
    if (!chosen) return draw();
    try {
      answer = await api('GET', `/v1/sessions/${encodeURIComponent(session.id)}/ssh-config`, undefined, { engineer: chosen });
    } catch (err) {
      answer = { error: err };
    }
    draw();
  }

  async function start() {
    try {
      const list = await api('GET', '/v1/engineers');
      engineers = (list.engineers ?? []).map((e) => e.name);
    } catch (err) {
      engineers = [];
      answer = { error: err };
    }
    chosen = engineers.includes(ctx.me.name) ? ctx.me.name : engineers[0] ?? null;
    await fetchCommands();
  }

  function picker() {
    const sel = h('select', { id: 'ports-engineer', onchange: () => ((chosen = sel.value), void fetchCommands()) }, engineers.map((n) => h('option', { value: n }, n)));
    sel.value = chosen ?? '';
    return h('div', { class: 'field inline' }, h('label', { for: sel.id }, 'Commands for engineer'), sel);
  }

  function draw() {
    const live = session.state !== 'CLOSED';
    const commands = new Map((answer?.commands ?? []).map((c) => [Number(c.port), c.command]));
    const canCommand = live && ctx.can('engineer');
    const rows = session.ports.map((port) =>
      h(
        'tr',
        { 'data-port': String(port) },
        h('td', {}, String(port)),
        h('td', {}, commands.has(port) ? h('code', { class: 'command' }, commands.get(port)) : h('span', { class: 'muted' }, '—')),
        h('td', {}, commands.has(port) ? copyButton('Copy ssh command', commands.get(port), { 'data-copy-port': String(port), 'aria-label': `Copy ssh command for port ${port}` }) : null),
      ),
    );
    const notes = [];
    if (!live) notes.push(h('p', { class: 'muted' }, 'The session is closed: nothing can be reached any more.'));
    else if (!ctx.can('engineer')) notes.push(h('p', { class: 'muted' }, 'ssh commands are for the engineer and admin roles.'));
    else if (engineers && engineers.length === 0) notes.push(h('p', { class: 'muted' }, 'No engineer is registered: add a public key under Engineers to get ssh commands.'));
    if (answer?.error) notes.push(errorLine(answer.error));
    replace(
      body,
      canCommand && engineers?.length ? picker() : null,
      notes,
      table(['Port', 'ssh command', ''], rows, { class: 'ports' }),
      answer?.config
        ? h('details', {}, h('summary', {}, 'ssh config block'), h('pre', { class: 'config' }, answer.config), copyButton('Copy config block', answer.config))
        : null,
    );
  }

  draw();
  const canCommand = initial.state !== 'CLOSED' && ctx.can('engineer');
  if (canCommand) void start();
  return {
    element,
    update(s) {
      const wasLive = session.state !== 'CLOSED';
      session = s;
      if (wasLive && s.state === 'CLOSED') answer = null;
      draw();
    },
  };
}
