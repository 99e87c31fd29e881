// What the browser tests do on a console page, as a person would: wait for what is shown, reach a
// control with Tab, sign in. Fails fast with the page's own error line when one appears.
import type { Page } from 'playwright-core';
import type { Browser } from './browser.js';
import type { ConsoleOperator } from './console-harness.js';

export async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent({ timeout: 5_000 }))?.trim() ?? '';
}

/** Waits until the session row shows `state` and returns when it did. */
export async function rowState(page: Page, sid: string, state: string, timeout = 5_000): Promise<number> {
  await page.locator(`tr[data-sid="${sid}"] [data-state="${state}"]`).waitFor({ state: 'visible', timeout });
  return Date.now();
}

/** Waits for `selector`; fails at once with the page's error line if one appears first. */
export async function shown(page: Page, selector: string): Promise<void> {
  const alert = page.locator('[role="alert"]:not(:empty)').first();
  const which = await Promise.race([page.locator(selector).first().waitFor().then(() => 'ok'), alert.waitFor().then(() => 'alert')]);
  if (which === 'alert') throw new Error(`page says: ${await alert.textContent()}`);
}

/** Presses Tab until `selector` has the focus (as a keyboard user would reach it). */
export async function tabTo(page: Page, selector: string, maxTabs = 60): Promise<void> {
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
  }
  throw new Error(`${selector} not reached with ${maxTabs} presses of Tab`);
}

export async function signIn(br: Browser, op: ConsoleOperator): Promise<void> {
  await br.page.goto('/console/');
  await br.page.locator('#token').waitFor();
  await br.page.locator('#token').fill(op.token);
  await br.page.getByRole('button', { name: 'Sign in' }).click();
  await br.page.locator(`[data-operator="${op.name}"]`).waitFor();
}

export async function live(page: Page): Promise<void> {
  await page.locator('.live[data-live="live"]').waitFor({ timeout: 5_000 });
}
