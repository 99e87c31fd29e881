// Small reusable pieces of the console: copy buttons, the confirm dialog, the live indicator,
// "shown once" secret boxes. Built from dom.js, so every text stays text.
import { copyText } from './api.js';
import { h, status } from './dom.js';
import { liveState, onLiveState } from './live.js';

/** A button that copies `getText()` and says so in a live region next to it. */
export function copyButton(label, getText, attrs = {}) {
  const said = status();
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary small',
      ...attrs,
      onclick: async () => {
        try {
          await copyText(typeof getText === 'function' ? getText() : getText);
          said.textContent = 'Copied';
        } catch (err) {
          said.textContent = err instanceof Error ? err.message : String(err);
        }
        setTimeout(() => (said.textContent = ''), 2500);
      },
    },
    label,
  );
  return h('span', { class: 'copy' }, button, said);
}

/** A secret shown once (a key, an enrolment token): read-only, selectable, with a copy button. */
export function secretBox(label, value, note, name) {
  const area = h('textarea', { readonly: true, rows: Math.min(8, Math.max(2, Math.ceil(value.length / 80))), spellcheck: 'false', class: 'secret', 'data-secret': name });
  area.value = value;
  area.id = `secret-${name}`;
  return h(
    'div',
    { class: 'secret-box' },
    h('label', { for: area.id }, label),
    area,
    h('div', { class: 'row' }, copyButton(`Copy ${label.toLowerCase()}`, () => area.value), h('span', { class: 'warning' }, note)),
  );
}

/**
 * A modal confirm (native <dialog>: focus stays inside, Escape cancels). Resolves true only when
 * the confirming button is pressed.
 */
export function confirmDialog({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'submit', value: 'yes', class: danger ? 'danger' : 'primary' }, confirm);
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, title),
        h('p', {}, body),
        h('div', { class: 'row end' }, h('button', { type: 'submit', value: 'no', class: 'secondary' }, 'Cancel'), yes),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    yes.focus();
  });
}

const LIVE_TEXT = { live: 'Live', connecting: 'Connecting…', reconnecting: 'Reconnecting…', off: 'Not live' };

/** "● Live": whether transitions arrive by themselves; returns [element, unsubscribe]. */
export function liveIndicator() {
  const el = h('span', { class: 'live', role: 'status' });
  const show = (s) => {
    el.dataset.live = s;
    el.textContent = LIVE_TEXT[s] ?? s;
  };
  show(liveState());
  return [el, onLiveState(show)];
}

/** Runs `fn` with the button disabled, shows failures in `errors`. */
export async function busy(button, errors, fn) {
  button.disabled = true;
  errors.textContent = '';
  try {
    return await fn();
  } catch (err) {
    errors.textContent = err instanceof Error ? err.message : String(err);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

export function errorRegion() {
  return h('p', { class: 'error', role: 'alert' });
}
