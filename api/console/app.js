// The console shell: who is signed in, the navigation, and a hash router that mounts one page at a
// time (each page returns its own clean-up). Roles only decide what is shown; the API enforces them.
import { api, setCsrf, whenUnauthorized } from './api.js';
import { h, replace } from './dom.js';
import { startLive, stopLive } from './live.js';
import { appliancesPage } from './pages/appliances.js';
import { auditPage } from './pages/audit.js';
import { engineersPage } from './pages/engineers.js';
import { helpDesksPage } from './pages/help-desks.js';
import { issueKeyPage } from './pages/issue-key.js';
import { outboxPage } from './pages/outbox.js';
import { sessionDetailPage } from './pages/session-detail.js';
import { sessionsPage } from './pages/sessions.js';
import { signInPage } from './pages/sign-in.js';

const RANK = { viewer: 0, engineer: 1, admin: 2 };
/** True when the signed-in operator's role is at least `role`. */
export function can(me, role) {
  return Boolean(me) && (RANK[me.role] ?? -1) >= RANK[role];
}

const ROUTES = [
  { pattern: /^\/sessions\/([^/]+)$/, page: sessionDetailPage, nav: 'sessions' },
  { pattern: /^\/sessions$/, page: sessionsPage, nav: 'sessions' },
  { pattern: /^\/keys\/new$/, page: issueKeyPage, nav: 'keys', role: 'admin' },
  { pattern: /^\/appliances$/, page: appliancesPage, nav: 'appliances' },
  { pattern: /^\/engineers$/, page: engineersPage, nav: 'engineers' },
  { pattern: /^\/audit$/, page: auditPage, nav: 'audit' },
  { pattern: /^\/help-desks$/, page: helpDesksPage, nav: 'help-desks' },
  { pattern: /^\/outbox$/, page: outboxPage, nav: 'outbox', role: 'admin' },
];

const NAV = [
  ['sessions', '#/sessions', 'Sessions'],
  ['keys', '#/keys/new', 'Issue a key', 'admin'],
  ['appliances', '#/appliances', 'Appliances'],
  ['engineers', '#/engineers', 'Engineers'],
  ['audit', '#/audit', 'Audit'],
  ['help-desks', '#/help-desks', 'Help desks'],
  ['outbox', '#/outbox', 'Outbox', 'admin'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let me = null;
let cleanup = null;

function location_() {
  const raw = window.location.hash.startsWith('#/') ? window.location.hash.slice(1) : '/sessions';
  const [path, qs = ''] = raw.split('?');
  return { path, query: new URLSearchParams(qs) };
}

function unmount() {
  if (cleanup) cleanup();
  cleanup = null;
}

function renderNav(current) {
  replace(
    nav,
    h(
      'ul',
      {},
      NAV.filter(([, , , role]) => !role || can(me, role)).map(([id, href, text]) =>
        h('li', {}, h('a', { href, 'aria-current': id === current ? 'page' : undefined, 'data-nav': id }, text)),
      ),
    ),
  );
}

function route() {
  if (!me) return;
  // "#main" (the skip link) is not a page.
  if (window.location.hash && !window.location.hash.startsWith('#/')) return;
  const { path, query } = location_();
  const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  unmount();
  if (!match) {
    window.location.replace('#/sessions');
    return;
  }
  renderNav(match.r.nav);
  main.replaceChildren();
  if (match.r.role && !can(me, match.r.role)) {
    main.append(h('h1', {}, 'Not for your role'), h('p', {}, `This page needs the ${match.r.role} role; you are ${me.role}.`));
    return;
  }
  const ctx = { me, can: (role) => can(me, role), params: match.m.slice(1).map(decodeURIComponent), query, navigate: (hash) => (window.location.hash = hash) };
  const result = match.r.page(main, ctx);
  cleanup = typeof result === 'function' ? result : null;
}

function signedIn(answer) {
  me = answer.operator;
  setCsrf(answer.csrf);
  document.body.dataset.signedIn = 'true';
  nav.hidden = false;
  who.hidden = false;
  replace(
    who,
    h('span', { class: 'who-name', 'data-operator': me.name }, me.name),
    h('span', { class: `role role-${me.role}` }, me.role),
    h('button', { type: 'button', class: 'secondary small', onclick: signOut }, 'Sign out'),
  );
  startLive();
  route();
}

function showSignIn(message) {
  unmount();
  me = null;
  setCsrf(null);
  stopLive();
  delete document.body.dataset.signedIn;
  nav.hidden = true;
  who.hidden = true;
  main.replaceChildren();
  cleanup = signInPage(main, { message, onSignedIn: signedIn }) ?? null;
}

async function signOut() {
  try {
    await api('DELETE', '/v1/console/session');
  } catch {
    // Signed out or not, the tab forgets the session.
  }
  showSignIn('Signed out.');
}

async function boot() {
  whenUnauthorized(() => showSignIn('Your session has ended. Sign in again.'));
  window.addEventListener('hashchange', route);
  try {
    signedIn(await api('GET', '/v1/me'));
  } catch (err) {
    if (err.status === 401) showSignIn();
    else replace(main, h('h1', {}, 'The console cannot reach the server'), h('p', { class: 'error', role: 'alert' }, err.message));
  }
}

void boot();
