// What an operator may do to one session, by role: reveal the support password (engineer and up),
// extend and revoke (admin). Buttons a role may not use are not shown; the API refuses them anyway.
import { api } from '../api.js';
import { h, replace, select } from '../dom.js';
import { busy, confirmDialog, copyButton, errorRegion } from '../widgets.js';

const TTLS = [['1h', '1 hour'], ['2h', '2 hours'], ['4h', '4 hours'], ['8h', '8 hours'], ['1d', '1 day'], ['7d', '7 days']];

export function sessionActions(s, ctx, reload) {
  const live = s.state !== 'CLOSED';
  const errors = errorRegion();
  const parts = [];
  if (live && ctx.can('engineer')) parts.push(revealPart(s, errors));
  if (live && ctx.can('admin')) parts.push(extendPart(s, errors, reload), revokePart(s, errors, reload));
  if (!parts.length) return null;
  return h('div', { class: 'session-actions', role: 'group', 'aria-label': 'Actions' }, parts, errors);
}

function revealPart(s, errors) {
  const out = h('div', { class: 'revealed', 'aria-live': 'polite' });
  const button = actionButton('reveal', 'secondary', 'Reveal password', async () => {
    const answer = await busy(button, errors, () => api('POST', `/v1/sessions/${encodeURIComponent(s.id)}/credentials`));
    if (!answer) return;
    const hide = h('button', { type: 'button', class: 'secondary small', onclick: () => (out.replaceChildren(), button.focus()) }, 'Hide');
    replace(
      out,
      h('span', { class: 'muted' }, 'User '),
      h('code', { 'data-user': '' }, answer.user),
      h('span', { class: 'muted' }, ' password '),
      h('code', { 'data-password': '' }, answer.password),
      ' ',
      copyButton('Copy password', answer.password),
      hide,
      h('p', { class: 'hint' }, 'This reveal is recorded in the audit under your name.'),
    );
  });
  return h('div', { class: 'action' }, button, out);
}

function extendPart(s, errors, reload) {
  const ttl = select('ttl', TTLS, '2h');
  ttl.id = 'extend-ttl';
  const button = h('button', { type: 'submit', class: 'secondary', 'data-action': 'extend' }, 'Extend');
  return h(
    'form',
    {
      class: 'action inline',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const answer = await busy(button, errors, () => api('POST', `/v1/sessions/${encodeURIComponent(s.id)}/extend`, { ttl: ttl.value }));
        // The reload shows the new expiry in the facts above.
        if (answer) void reload();
      },
    },
    h('label', { for: ttl.id }, 'Expire in'),
    ttl,
    button,
    h('span', { class: 'hint' }, 'counted from now'),
  );
}

function revokePart(s, errors, reload) {
  const button = actionButton('revoke', 'danger', 'Revoke…', async () => {
    const sure = await confirmDialog({
      title: `Revoke ${s.serial}?`,
      body: 'The tunnel and every engineer channel to this appliance close now, and the key cannot be used again.',
      confirm: 'Revoke',
      danger: true,
    });
    if (!sure) return button.focus();
    const answer = await busy(button, errors, () => api('POST', `/v1/sessions/${encodeURIComponent(s.id)}/revoke`));
    if (answer) void reload();
  });
  return h('div', { class: 'action revoke' }, button);
}

/** A plain button (not a form's submit) that does `action` when clicked. */
function actionButton(action, cls, label, onclick) {
  return h('button', { type: 'button', class: cls, 'data-action': action, onclick }, label);
}
