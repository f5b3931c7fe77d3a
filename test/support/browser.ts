/**
 * The browser for the web app's end-to-end tests: Debian's Chromium, headless, driven by playwright-core (no
 * browser download). One browser per test file; each test opens its own context (cookies of its own), which
 * @axe-core/playwright also needs. Screenshots go to test-artifacts/screens (gitignored), kept as artefacts.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { repoRoot } from '../../src/config/env.js';

const CHROMIUM_PATHS = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export const SCREENS_DIR = path.join(repoRoot, 'test-artifacts', 'screens');

/** Launches Debian's Chromium headless; fails with the install command when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = CHROMIUM_PATHS.find((p) => existsSync(p));
  if (executablePath === undefined)
    throw new Error(`Chromium is not installed (looked at ${CHROMIUM_PATHS.join(', ')}): apt-get update && apt-get install -y chromium`);
  // As root Playwright adds --no-sandbox itself; /dev/shm is small in containers.
  return chromium.launch({ executablePath, headless: true, args: ['--disable-dev-shm-usage'] });
}

/**
 * A fresh context (its own cookies) that may reach loopback only: anything else (the local provider's page asks
 * for a web font) is aborted at once, so a test never waits on the network outside the machine.
 */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => route.abort(),
  );
  return context;
}

/**
 * A screenshot of the whole page, saved as a test artefact under a name saying which page it is; none when
 * STORK_TEST_SCREENSHOTS is `off` (CI: nobody keeps them there, and about 50 full-page captures cost CPU the suite needs).
 * Returns the file it wrote, or undefined.
 */
export async function screenshot(page: Page, name: string): Promise<string | undefined> {
  if (process.env.STORK_TEST_SCREENSHOTS === 'off') return undefined;
  mkdirSync(SCREENS_DIR, { recursive: true });
  const file = path.join(SCREENS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The installed axe-core (not the copy @axe-core/playwright bundles), read once. */
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The serious and critical accessibility violations axe finds on the page (WCAG 2.1 A and AA rules), as short lines. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page, axeSource }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).setLegacyMode().analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact ?? ''} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
}

/**
 * Waits until `locator` shows `text` (containing it, or with `exact` being it, whitespace aside). `count()`,
 * `textContent()` and `page.url()` do not wait for a page a click is loading: after a click, wait with this (or
 * `page.waitForURL`) before reading, or the previous page may be read.
 */
export async function waitForText(locator: Locator, text: string, o: { exact?: boolean } = {}): Promise<void> {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await locator
    .filter({ hasText: o.exact === true ? new RegExp(`^\\s*${escaped}\\s*$`) : text })
    .first()
    .waitFor();
}
