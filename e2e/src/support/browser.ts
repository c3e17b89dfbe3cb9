import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './platform';

/**
 * Where the console's screenshots go. Every browser test takes its screenshots; they replace the
 * README's (docs/screenshots) only with E2E_UPDATE_SCREENSHOTS=1, so a test run leaves the
 * working tree as it found it and the committed pictures change only when somebody means to.
 */
let screenshots: string | undefined;
function screenshotsDir(): string {
  screenshots ??= process.env['E2E_UPDATE_SCREENSHOTS'] === '1' ? join(ROOT, 'docs/screenshots') : mkdtempSync(join(tmpdir(), 'servable-screenshots-'));
  return screenshots;
}

/**
 * The installed Chromium: CHROMIUM_PATH, else Debian's /usr/bin/chromium, else Chrome.
 * Never a downloaded browser (there is no network at test time).
 */
export function chromiumPath(): string | undefined {
  const candidates = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no Chromium: install Debian chromium (apt-get install chromium) or set CHROMIUM_PATH');
  // --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Browser-console errors and uncaught page errors, so a test can assert there are none. */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = screenshotsDir();
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
