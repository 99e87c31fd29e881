// The Tether page's stylesheet and its one small script, served from the service itself (no CDN,
// works on an appliance without internet; CSP 'self'). The script only refreshes the status, the
// open engineer connections and the log every two seconds, as text; the page works without it.

export const PAGE_CSS = `:root{--bg:#f3f5f7;--card:#fff;--ink:#1c2530;--muted:#5b6775;--line:#d9dee4;--accent:#0b5cad;--ok:#1d7a3a;--warn:#9a6400;--bad:#b3261e}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.bar{background:#22303f;color:#dfe6ee;padding:10px 24px;font-size:14px}
.bar strong{color:#fff}
main{max-width:860px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:24px;margin:0}
h2{font-size:17px;margin:0 0 10px}
.title-row{display:flex;align-items:baseline;gap:14px;flex-wrap:wrap;margin:4px 0 16px}
.appliance{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 20px;margin:0 0 16px}
.narrow{max-width:420px;margin:40px auto}
.muted{color:var(--muted);font-weight:normal}
.status-head{display:flex;align-items:center;gap:12px;flex-wrap:wrap;margin-bottom:8px}
.status-head h2{margin:0}
.badge{display:inline-block;padding:3px 12px;border-radius:999px;font-weight:700;font-size:13px;letter-spacing:.06em;border:1px solid transparent}
.badge-connected{background:#e3f4e8;color:var(--ok);border-color:#b6dfc2}
.badge-connecting,.badge-lost,.badge-disabling{background:#fdf1dc;color:var(--warn);border-color:#f0d49c}
.badge-disabled{background:#eceff2;color:#47525e;border-color:#d3d8de}
.reach{margin:6px 0 12px;padding:10px 12px;background:#f6f8fa;border-left:4px solid var(--accent);border-radius:4px}
table.details{border-collapse:collapse;width:100%}
.details th{text-align:left;font-weight:600;color:var(--muted);padding:5px 16px 5px 0;width:36%;vertical-align:top}
.details td{padding:5px 0;overflow-wrap:anywhere}
.stack{display:flex;flex-direction:column;gap:8px}
label{font-weight:600}
textarea,input[type=password]{font:inherit;padding:8px 10px;border:1px solid #b9c1ca;border-radius:6px;width:100%}
textarea:focus,input:focus,button:focus-visible,summary:focus-visible{outline:3px solid #8ab4e6;outline-offset:1px}
.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
fieldset.choice{border:1px solid var(--line);border-radius:6px;padding:8px 12px 12px;margin:4px 0}
fieldset.choice legend{font-weight:600;padding:0 4px}
label.radio{display:block;font-weight:normal;margin:4px 0}
button{font:inherit;border-radius:6px;padding:8px 18px;cursor:pointer;border:1px solid transparent}
button.primary{background:var(--accent);color:#fff;align-self:flex-start;font-weight:600}
button.danger{background:#fff;color:var(--bad);border-color:var(--bad);font-weight:600}
button.danger:hover{background:var(--bad);color:#fff}
button.link{background:none;color:var(--accent);padding:0;text-decoration:underline}
.row-actions{display:flex;align-items:center;gap:16px;flex-wrap:wrap}
.row-actions form{margin:0}
.row-actions p{margin:0}
details.alt{margin-top:14px;border-top:1px solid var(--line);padding-top:10px}
details.alt summary{cursor:pointer;color:var(--accent);margin-bottom:8px}
.flash{padding:10px 14px;border-radius:6px;margin:0 0 16px;font-weight:600}
.flash-ok{background:#e3f4e8;color:var(--ok);border:1px solid #b6dfc2}
.flash-error{background:#fbe9e7;color:var(--bad);border:1px solid #f1b9b3}
/* column-reverse keeps the newest lines in view: the box opens scrolled to its end, without script. */
.log-scroll{display:flex;flex-direction:column-reverse;max-height:340px;overflow:auto;background:#10161d;border-radius:6px}
.log-scroll:focus-visible{outline:3px solid #8ab4e6;outline-offset:1px}
pre.log{color:#d6dde6;padding:12px;font-size:12px;line-height:1.5;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
.sign-out{text-align:right}
`;

export const PAGE_JS = `// Refreshes the status, engineer connections and log of the Tether page (as text) every 2 s.
'use strict';
(function () {
  var view = document.body.getAttribute('data-view');
  if (view === 'sign-in' || !document.getElementById('tether-status')) return;
  var busy = false;
  // A form on its way (Enable waits for the tunnel) must not be cut short by a refresh.
  var leaving = false;
  document.addEventListener('submit', function () { leaving = true; });
  function text(id, value) {
    var el = document.getElementById(id);
    if (el && el.textContent !== value) el.textContent = value;
  }
  function render(m) {
    var form = m.form === null ? 'tether' : m.form;
    if (leaving) return;
    if (form !== view) { window.location.reload(); return; }
    var badge = document.getElementById('tether-status');
    badge.textContent = m.word;
    badge.className = 'badge badge-' + m.state;
    badge.setAttribute('data-state', m.state);
    text('status-since', m.since);
    text('reach', m.reach);
    var body = document.getElementById('status-rows');
    var rows = document.createDocumentFragment();
    m.rows.forEach(function (r) {
      var tr = document.createElement('tr');
      var th = document.createElement('th');
      th.scope = 'row';
      th.textContent = r[0];
      var td = document.createElement('td');
      td.textContent = r[1];
      tr.appendChild(th);
      tr.appendChild(td);
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
    text('log', m.log.join('\\n'));
  }
  function poll() {
    if (busy || leaving || document.hidden) return;
    busy = true;
    fetch('/support/tether/status.json', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (m) { if (m) render(m); })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  setInterval(poll, 2000);
})();
`;
