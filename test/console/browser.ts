// Debian's Chromium (/usr/bin/chromium) driven by playwright-core, headless, with a fresh profile
// per browser; never a downloaded browser. Collects console errors, page errors and CSP violations
// so tests can assert the page ran clean, and saves screenshots as test artefacts.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '..', '..', 'test-artifacts', 'console');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught page errors and CSP violations seen so far. */
  problems: string[];
  /** test-artifacts/console/<name>.png; the whole page unless `viewport` (a modal's backdrop covers only the viewport). */
  screenshot(name: string, opts?: { viewport?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function openBrowser(baseUrl: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (never a downloaded browser)`);
  const profile = mkdtempSync(join(tmpdir(), 'tether-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    baseURL: baseUrl,
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  // Fail within a test's time, with Playwright's message, rather than at vitest's timeout.
  context.setDefaultTimeout(5_000);
  const problems: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  // Refusals (401, 403, 404) are part of the flows under test; a failed load is a problem only when
  // the server broke (5xx), which the response listener records with its URL.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push(`http ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __csp: string[] }).__csp ??= [];
      (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return {
    context,
    page,
    problems,
    async screenshot(name, opts = {}) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name}.png`);
      // Finite animations (the row flash) are run to their end, so the picture shows the settled page.
      await page.screenshot({ path, fullPage: !opts.viewport, animations: 'disabled' });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
