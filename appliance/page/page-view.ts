// The Tether page's HTML: sign-in, the page itself (status, consent, the form this version allows,
// Disable Tether, the log) and one-line message pages. Every dynamic value goes through `esc`:
// log lines, relay reasons and ticket ids are untrusted text. No inline script or style (CSP).
import { MAX_DESCRIPTION } from '../service/enable-wording.js';
import type { PageModel } from './page-model.js';
import { PAGE_PATH, type Flash } from './page-sessions.js';

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title: string, body: string, view = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${PAGE_PATH}/page.css">
<script src="${PAGE_PATH}/page.js" defer></script>
</head>
<body data-view="${esc(view)}">
<header class="bar"><span class="crumbs">Support <span aria-hidden="true">›</span> <strong>Tether</strong></span></header>
<main>
${body}
</main>
</body>
</html>
`;
}

function flashBox(flash: Flash | undefined): string {
  if (!flash) return '';
  return `<p class="flash flash-${flash.kind}" id="flash" role="${flash.kind === 'error' ? 'alert' : 'status'}">${esc(flash.text)}</p>`;
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;

export function signInView(csrf: string, flash?: Flash): string {
  return layout(
    'Sign in · Tether',
    `<section class="card narrow">
<h1>Tether</h1>
<p class="muted">Sign in with the appliance's Tether page password to enable or disable remote support.</p>
${flashBox(flash)}
<form method="post" action="${PAGE_PATH}/sign-in" class="stack">
${hidden(csrf)}
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" autofocus>
<button type="submit" class="primary">Sign in</button>
</form>
</section>`,
    'sign-in',
  );
}

export function messageView(title: string, line: string): string {
  return layout(`${title} · Tether`, `<section class="card narrow"><h1>${esc(title)}</h1><p id="message">${esc(line)}</p><p><a href="${PAGE_PATH}">Back to the Tether page</a></p></section>`);
}

function statusCard(m: PageModel): string {
  const rows = m.rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n');
  return `<section class="card" aria-labelledby="status-title">
<div class="status-head">
<h2 id="status-title">Status</h2>
<span id="tether-status" class="badge badge-${esc(m.state)}" data-state="${esc(m.state)}">${esc(m.word)}</span>
<span id="status-since" class="muted">${esc(m.since)}</span>
</div>
<p id="reach" class="reach">${esc(m.reach)}</p>
<table class="details"><tbody id="status-rows">
${rows}
</tbody></table>
</section>`;
}

function passwordChoice(): string {
  return `<fieldset class="choice">
<legend>Support password for kace_support</legend>
<label class="radio"><input type="radio" name="password_choice" value="generated" checked> Generated (recommended): a fresh one for this session, only support's engineers can reveal it</label>
<label class="radio"><input type="radio" name="password_choice" value="own"> My own password:</label>
<input name="password" type="password" autocomplete="new-password" maxlength="1024" aria-label="Your support password" placeholder="at least 8 characters">
</fieldset>`;
}

function descriptionForm(csrf: string, draft: string): string {
  return `<form method="post" action="${PAGE_PATH}/enable" class="stack" id="enable-form">
${hidden(csrf)}
<input type="hidden" name="mode" value="description">
<label for="description">What is wrong? Support opens a ticket with your words.</label>
<textarea id="description" name="description" rows="4" maxlength="${MAX_DESCRIPTION}" placeholder="For example: the inventory page is blank since the upgrade">${esc(draft)}</textarea>
${passwordChoice()}
<button type="submit" class="primary" id="enable">Enable Tether</button>
</form>`;
}

function keyForm(csrf: string, label: string): string {
  return `<form method="post" action="${PAGE_PATH}/enable" class="stack" id="key-form">
${hidden(csrf)}
<input type="hidden" name="mode" value="key">
<label for="key">Tether key from support (it starts with KT1.)</label>
<textarea id="key" name="key" rows="5" spellcheck="false" autocomplete="off" class="mono" placeholder="KT1.…"></textarea>
${passwordChoice()}
<button type="submit" class="primary" id="enable-key">${esc(label)}</button>
</form>`;
}

/** A key support pushed: what it is for, and the one button that accepts it (the password choice as for the others). */
function waitingCard(m: PageModel, csrf: string): string {
  if (m.form === null) return '';
  if (!m.waiting) return m.inboxError ? `<p class="muted" id="inbox-error">Could not check for keys from support: ${esc(m.inboxError)}</p>` : '';
  const w = m.waiting;
  const more = w.more > 0 ? ` (${w.more} older ${w.more === 1 ? 'key waits' : 'keys wait'} too)` : '';
  return `<section class="card" aria-labelledby="waiting-title" id="waiting">
<h2 id="waiting-title">A key from support is waiting</h2>
<p id="waiting-line">Session ${esc(w.sid)}${w.ticket ? ` for ticket ${esc(w.ticket)}` : ''}, usable until ${esc(w.expires)}${esc(more)}.</p>
<form method="post" action="${PAGE_PATH}/enable" class="stack" id="pending-form">
${hidden(csrf)}
<input type="hidden" name="mode" value="pending">
${passwordChoice()}
<button type="submit" class="primary" id="accept-pending">Accept and enable</button>
</form>
</section>`;
}

function enableCard(m: PageModel, csrf: string, flash: Flash | undefined): string {
  if (m.form === null) return '';
  const open = flash?.form === 'key' ? ' open' : '';
  const body =
    m.form === 'description'
      ? `${descriptionForm(csrf, flash?.description ?? '')}
<details class="alt"${open}><summary>I have a key from support</summary>
${keyForm(csrf, 'Enable')}
</details>`
      : keyForm(csrf, 'Enable');
  return `<section class="card" aria-labelledby="enable-title">
<h2 id="enable-title">Enable remote support</h2>
${body}
</section>`;
}

export function tetherView(m: PageModel, csrf: string, flash: Flash | undefined): string {
  const log = m.log.join('\n');
  return layout(
    'Tether',
    `<div class="title-row"><h1>Tether</h1><span class="appliance">${esc(m.appliance)}</span></div>
${flashBox(flash)}
${statusCard(m)}
${waitingCard(m, csrf)}
${enableCard(m, csrf, flash)}
<section class="card row-actions">
<form method="post" action="${PAGE_PATH}/disable" id="disable-form">
${hidden(csrf)}
<button type="submit" class="danger" id="disable">Disable Tether</button>
</form>
<p class="muted">Ends remote support at once: open engineer connections close and ${'kace_support'} is removed.</p>
</section>
<section class="card" aria-labelledby="log-title">
<h2 id="log-title">Log <span class="muted">(last ${m.log.length} lines)</span></h2>
<div class="log-scroll" tabindex="0"><pre id="log" class="log">${esc(log)}</pre></div>
</section>
<form method="post" action="${PAGE_PATH}/sign-out" class="sign-out">
${hidden(csrf)}
<button type="submit" class="link">Sign out</button>
</form>`,
    m.form ?? 'tether',
  );
}
