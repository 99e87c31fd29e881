// Sign in with a personal token (POST /v1/console/session sets the HttpOnly session cookie), or
// with single sign-on when GET /v1/console/sso says it is configured.
import { api } from '../api.js';
import { h } from '../dom.js';
import { busy, errorRegion } from '../widgets.js';

export function signInPage(root, { message, onSignedIn }) {
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true, id: 'token' });
  const errors = errorRegion();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const sso = h('div', { class: 'sso', hidden: true });
  const form = h(
    'form',
    {
      class: 'card sign-in',
      'aria-labelledby': 'sign-in-title',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const answer = await busy(submit, errors, () => api('POST', '/v1/console/session', { token: token.value.trim() }));
        if (answer) {
          token.value = '';
          onSignedIn(answer);
        }
      },
    },
    h('h1', { id: 'sign-in-title' }, 'Sign in to Tether'),
    message ? h('p', { class: 'notice', role: 'status' }, message) : null,
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'Personal token'), token, h('span', { class: 'hint' }, 'From "tether operator add NAME --role …". Signing in starts a cookie session; the browser does not keep the token.')),
    errors,
    h('div', { class: 'row' }, submit),
    sso,
  );
  root.append(form);
  token.focus();

  // SSO is optional: the button appears only when the server says it is configured.
  api('GET', '/v1/console/sso')
    .then((answer) => {
      if (!answer || answer.configured !== true) return;
      // Only a same-origin path is followed ("//host" would leave the site).
      const start = typeof answer.startUrl === 'string' && /^\/(?![/\\])/.test(answer.startUrl) ? answer.startUrl : '/console/sso/start';
      sso.append(h('p', { class: 'or' }, 'or'), h('a', { class: 'button secondary', href: start, 'data-sso': 'start' }, 'Sign in with SSO'));
      sso.hidden = false;
    })
    .catch(() => undefined);
}
