// The small HTML page an SSO callback answers with when it does not sign the browser in: what
// happened, in words, and a link back to the console's sign-in. Every piece of text is escaped
// (provider messages and claims are untrusted); no script, the console's stylesheet only.
import type { FastifyReply } from 'fastify';

export type SsoRefusal = 'not_started' | 'other_browser' | 'provider_error' | 'no_role' | 'no_name' | 'exchange_failed' | 'unavailable';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function ssoRefusalPage(reply: FastifyReply, status: number, code: SsoRefusal, title: string, lines: readonly string[]): FastifyReply {
  const body = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>${escapeHtml(title)} · Tether console</title>
  <link rel="stylesheet" href="/console/console.css">
</head>
<body>
  <header class="top">
    <a class="brand" href="/console/"><img src="/console/icon.svg" alt="" width="22" height="22"><span>Tether</span></a>
  </header>
  <main id="main" class="sso-result">
    <section class="card sign-in" data-sso-refused="${code}" aria-labelledby="sso-title">
      <h1 id="sso-title">${escapeHtml(title)}</h1>
${lines.map((l) => `      <p>${escapeHtml(l)}</p>`).join('\n')}
      <p><a class="button primary" href="/console/">Back to sign-in</a></p>
    </section>
  </main>
</body>
</html>
`;
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}
