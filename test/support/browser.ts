import { existsSync } from 'node:fs';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs when it is missing; playwright-core brings no browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** For a machine on a closed network: nothing fetched in the background, no sandbox (containers run as root). */
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The WCAG 2.2 AA rules of axe-core (Ontario's AODA asks WCAG AA of hospitals and public bodies). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'];

/**
 * One Chromium for a whole test file (launching is the slow part: contexts are cheap). Without the browser the
 * suite fails here, saying what to install: a browser suite that silently did not run would pass for one that did.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Chromium at ${CHROMIUM}: install it (Debian: apt-get install -y chromium; .ci/run does so when it is missing).`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

/** What a page did that the app must never do: break its Content-Security-Policy, log an error, throw. */
export interface PageProblems {
  /** `securitypolicyviolation` events, in every frame: `directive blocked-uri (source:line)`. */
  csp: string[];
  /** console.error messages (Chromium also logs each CSP refusal and each failed load here). */
  console: string[];
  /** Uncaught exceptions and unhandled rejections. */
  errors: string[];
  /** All of them, for `expect(problems.all()).toEqual([])`. */
  all(): string[];
  /** Forgets what was collected (a test that provokes a refusal on purpose, then goes on). */
  clear(): void;
}

/**
 * A browser context whose pages report every CSP violation and console error: an init script, run in each frame
 * before the page's own scripts (injected by the browser, so the page's CSP does not apply to it), listens for
 * `securitypolicyviolation` and hands each to the test through a binding.
 */
export async function watchedContext(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; problems: PageProblems }> {
  const context = await browser.newContext(options);
  const csp: string[] = [];
  const console: string[] = [];
  const errors: string[] = [];
  await context.exposeBinding('__reportCspViolation', (_source, text: string) => void csp.push(text));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation: (text: string) => void }).__reportCspViolation;
      void report(`${event.effectiveDirective} ${event.blockedURI || '(inline)'} (${event.sourceFile || event.documentURI}:${event.lineNumber})`);
    });
  });
  context.on('console', (message) => {
    if (message.type() === 'error') console.push(`${message.text()} (${message.location().url})`);
  });
  context.on('weberror', (error) => errors.push(error.error().message));
  return {
    context,
    problems: {
      csp,
      console,
      errors,
      all: () => [...csp.map((text) => `CSP: ${text}`), ...console.map((text) => `console: ${text}`), ...errors.map((text) => `error: ${text}`)],
      clear: () => {
        csp.length = 0;
        console.length = 0;
        errors.length = 0;
      },
    },
  };
}

/** axe-core's WCAG 2.2 AA violations on the page as it is now (its frames included), one readable line each. */
export async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  return results.violations.map((violation) => `${violation.id} (${violation.impact}): ${violation.help}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}
