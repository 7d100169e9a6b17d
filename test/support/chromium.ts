// Headless Chromium for browser tests: where it is, how it is launched, and when a missing one may skip.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium (what .ci/run installs), unless CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ON_CI = process.env.CI === 'true';

/**
 * Why a browser suite is skipped, or undefined when it runs. Locally a missing Chromium skips loudly;
 * on CI (CI=true) it never skips, so the suite fails instead of passing silently.
 */
export function chromiumSkipReason(suite: string): string | undefined {
  if (existsSync(CHROMIUM) || ON_CI) return undefined;
  const reason = `Chromium not found at ${CHROMIUM}`;
  console.error(
    `\n!!!!! ${suite} SKIPPED: ${reason}. Install it (apt-get install chromium) or set CHROMIUM_PATH. On CI (CI=true) this fails.\n`
  );
  return reason;
}

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

/**
 * Launches headless Chromium with a fresh profile. Without the background-networking flags Chromium
 * keeps trying to reach Google's hosts, which this sandbox refuses.
 */
export async function launchChromium(
  viewport?: { width: number; height: number },
  extraArgs: string[] = []
): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (required on CI)`);
  const profile = await mkdtemp(join(tmpdir(), 'nextrush-chromium-'));
  // launchPersistentContext is how Playwright takes a --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    ...(viewport ? { viewport } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
