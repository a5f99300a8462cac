import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWorkerImage } from '../../apps/core/adapters/docker/local-images.js';
import { dockerEngineOrSkip } from '../docker-engine.js';
import { ROOT, tempDir } from '../helpers.js';
import { startStackProcess, type RunningStack } from '../local-stack-process.js';

// Page-side code is passed as strings: the project's type-check has no DOM library.
// Debian's Chromium (apt-get install -y chromium); never a downloaded browser. CI installs it
// and requires this test; elsewhere it says plainly that it did not run.
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI) throw new Error(`CI requires the browser test, and ${CHROMIUM} is missing (apt-get install -y chromium)`);
  console.warn(`browser test SKIPPED: ${CHROMIUM} not found (apt-get install -y chromium to run it)`);
}

const SCREENSHOTS = join(ROOT, 'test-output/screenshots');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Once as `npm start` runs by default (each task a process), once with each task in a Docker
// container (CONTAINERS=docker), when an engine answers: the page must not see a difference.
const engine = hasChromium ? await dockerEngineOrSkip('the browser test against CONTAINERS=docker') : null;
const MODES = [
  { containers: 'process', shots: '' },
  ...(engine ? [{ containers: 'docker', shots: 'docker-' }] : []),
] as const;

describe.runIf(hasChromium).each(MODES)('the dashboard in a real browser, CONTAINERS=$containers', ({ containers, shots }) => {
  let dir: ReturnType<typeof tempDir>;
  let stack: RunningStack;
  let browser: Browser;
  let page: Page;
  const alerts: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    dir = tempDir();
    // The images are built (or found) first, so the stack's own check at start is quick.
    if (containers === 'docker') await ensureWorkerImage(engine!, ROOT, () => {});
    stack = await startStackProcess(
      { DATA_DIR: join(dir.path, 'data'), WORK_SECONDS: '4', METRICS_INTERVAL_MS: '200', CONTAINERS: containers },
      { startTimeoutMs: 300_000 },
    );
    // launch() gives the browser a fresh, empty profile of its own each time.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', async (dialog) => {
      alerts.push(dialog.message());
      await dialog.dismiss();
    });
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop(2);
    dir?.remove();
  });

  it('adds work: yellow at once, blue with the container name, details with metrics, then green', async () => {
    await page.goto(stack.url);
    await expect(page.locator('h1').textContent()).resolves.toBe('event-driven-aci');
    // The page's icon, served by the app under its CSP (headless Chromium may not ask for it).
    expect(await page.evaluate(`fetch(document.querySelector('link[rel=icon]').href).then((r) => r.status + ' ' + r.headers.get('content-type'))`)).toBe('200 image/svg+xml');

    // Hold every live update back: the yellow card must come from the POST's own answer.
    const heldUpdates: (() => Promise<void>)[] = [];
    await page.route('**/ui/updates**', (route) => {
      heldUpdates.push(() => route.continue());
    });
    await page.fill('#message', 'hello from the browser');
    await page.click('button[type="submit"]');
    const card = page.locator('.card', { hasText: 'hello from the browser' });
    await card.waitFor({ timeout: 5_000 });
    expect(await card.getAttribute('class')).toContain('state-pending');
    await expect(card.locator('.badge').textContent()).resolves.toBe('Pending');
    expect(await page.inputValue('#message')).toBe(''); // the form is ready for more work
    await page.screenshot({ path: join(SCREENSHOTS, `${shots}1-pending.png`) });

    await page.unroute('**/ui/updates**');
    for (const release of heldUpdates) await release().catch(() => {});
    const cardId = (await card.getAttribute('id'))!;
    const containerName = `task-${cardId.replace(/^job-/, '')}`;
    const running = page.locator(`#${cardId}.state-inprogress`);
    await running.waitFor({ timeout: 10_000 });
    await expect(running.locator('code.container').textContent()).resolves.toBe(containerName);
    await expect(running.locator('code.container').getAttribute('title')).resolves.toBe(containerName);
    // One time format: local time, 24-hour, to the second; its UTC in the tooltip.
    await expect(running.locator('time').textContent()).resolves.toMatch(/^\d\d:\d\d:\d\d$/);
    await expect(running.locator('time').getAttribute('title')).resolves.toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/);
    await expect(running.locator('.badge').textContent()).resolves.toBe('In progress');
    await running.locator('progress').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, `${shots}2-in-progress.png`) });

    const metricsRequest = page.waitForRequest((request) => request.url().endsWith(`/api/containers/${containerName}/metrics`));
    await page.locator(`#${cardId} .details-button`).click();
    await metricsRequest;
    const dialog = page.locator('dialog.details[open]');
    await dialog.waitFor();
    await dialog.locator('[data-series="cpu"] svg').waitFor({ timeout: 5_000 });
    await dialog.locator('[data-series="memory"] svg').waitFor();
    expect(await dialog.locator('[data-series="memory"] svg polyline, [data-series="memory"] svg circle').count()).toBe(1);
    await expect(dialog.locator('h2').textContent()).resolves.toBe(containerName);
    await expect(dialog.locator('.timeline').textContent()).resolves.toMatch(/Enqueued[\s\S]*Dispatched[\s\S]*queue wait[\s\S]*Started[\s\S]*container start/);
    await page.waitForFunction(`document.querySelector('dialog.details .logs')?.textContent?.includes('InProgress')`);
    await expect(dialog.locator('.details-cost').textContent()).resolves.toMatch(/\$[\d.]+ for 1 vCPU and 1\.5 GiB/);
    await page.screenshot({ path: join(SCREENSHOTS, `${shots}3-details.png`) });
    await page.keyboard.press('Escape');
    await page.locator('dialog.details').waitFor({ state: 'detached' });

    const done = page.locator(`#${cardId}.state-done`);
    await done.waitFor({ timeout: 15_000 });
    await expect(done.locator('.badge').textContent()).resolves.toBe('Done');
    expect(await page.evaluate(`getComputedStyle(document.getElementById('${cardId}')).backgroundColor`)).toBe('rgb(227, 245, 232)');
    await expect(done.locator('.cost').textContent()).resolves.toMatch(/^\$0\.0000\d+$/);
    await expect(page.locator('#totals').textContent()).resolves.toMatch(/Done\s*1/);
    await page.screenshot({ path: join(SCREENSHOTS, `${shots}4-done.png`) });
  });

  it('keeps an open modal live to Done, then stops polling; counts come with the cards; the timeline has the container’s own start', async () => {
    await page.goto(stack.url);
    // Hold every live update back: the counts must come with the POST's own cards.
    const heldUpdates: (() => Promise<void>)[] = [];
    await page.route('**/ui/updates**', (route) => {
      heldUpdates.push(() => route.continue());
    });
    const before = Number(/(\d+) tasks?/.exec((await page.locator('#totals .total-count').textContent())!)![1]);
    const answer = page.waitForResponse((response) => response.url().endsWith('/ui/jobs') && response.request().method() === 'POST');
    await page.fill('#message', 'followed in the modal');
    await page.click('button[type="submit"]');
    const body = await (await answer).text();
    expect(body).toContain('<article ');
    expect(body).toContain('id="totals"');
    await page.locator('#totals .total-count', { hasText: new RegExp(`^${before + 1} tasks$`) }).waitFor({ timeout: 5_000 });
    await page.unroute('**/ui/updates**');
    for (const release of heldUpdates) await release().catch(() => {});

    const card = page.locator('.card', { hasText: 'followed in the modal' });
    await card.waitFor({ timeout: 5_000 });
    const cardId = (await card.getAttribute('id'))!;
    const containerName = `task-${cardId.replace(/^job-/, '')}`;
    await page.locator(`#${cardId} .details-button`).click();
    const dialog = page.locator('dialog.details[open]');
    await dialog.waitFor();
    expect(await dialog.locator('.badge').textContent()).not.toBe('Done');
    // The same dialog, never reopened: its badge, timeline and logs follow the task to Done.
    const opened = (await dialog.elementHandle())!;
    await dialog.locator('.badge', { hasText: /^Done$/ }).waitFor({ timeout: 20_000 });
    expect(await opened.isVisible()).toBe(true); // still the element that was opened, never replaced
    await expect(opened.$eval('.badge', (badge) => badge.textContent)).resolves.toBe('Done');
    await expect(dialog.locator('[data-live-part="timeline"]').textContent()).resolves.toMatch(/Finished\s*\S+/);
    await expect(dialog.locator('[data-live-part="timeline"]').textContent()).resolves.not.toContain('not yet');
    await dialog.locator('.logs', { hasText: 'Done' }).waitFor({ timeout: 5_000 });
    // Terminal: nothing more is asked for this container while the modal stays open.
    await page.locator('dialog.details[data-following="done"]').waitFor({ timeout: 5_000 });
    const asked: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().includes(containerName)) asked.push(request.url());
    };
    page.on('request', onRequest);
    await page.waitForTimeout(4_500);
    page.off('request', onRequest);
    expect(asked).toEqual([]);
    expect(await dialog.isVisible()).toBe(true);

    // The timeline's start is the task's recorded start (the container's, or its worker's own write), not its dispatch.
    const job = (await (await fetch(`${stack.url}/api/jobs/${cardId.replace(/^job-/, '')}`)).json()) as { startedAt: string; dispatchedAt: string };
    const started = dialog.locator('[data-live-part="timeline"] li', { hasText: 'Started' }).locator('time');
    expect(await started.getAttribute('datetime')).toBe(job.startedAt);
    expect(Date.parse(job.startedAt)).toBeGreaterThan(Date.parse(job.dispatchedAt));
    await page.screenshot({ path: join(SCREENSHOTS, `${shots}3b-details-done.png`) });
    await page.keyboard.press('Escape');
    await page.locator('dialog.details').waitFor({ state: 'detached' });
  });

  it('runs a kind picked in the form: the example word count goes green with its output', async () => {
    // The stack runs the fixture kinds (tests/fixtures/kinds/kinds.json), never the user's kinds.json.
    await expect(page.locator('#kind option').allTextContents()).resolves.toEqual(['default', 'wordcount']);
    await page.selectOption('#kind', 'wordcount');
    await page.fill('#message', 'count every word of this');
    await page.click('button[type="submit"]');
    const card = page.locator('.card', { hasText: 'count every word of this' });
    await card.waitFor({ timeout: 5_000 });
    await expect(card.locator('.kind').textContent()).resolves.toBe('wordcount');
    const cardId = (await card.getAttribute('id'))!;
    const done = page.locator(`#${cardId}.state-done`);
    await done.waitFor({ timeout: 15_000 });
    await expect(done.locator('.output').textContent()).resolves.toBe('5 words on 1 lines');
    await page.screenshot({ path: join(SCREENSHOTS, `${shots}5-kind-done.png`) });
    await page.selectOption('#kind', 'default');
  });

  it('shows a hostile message as text and runs nothing', async () => {
    const hostile = '<img src=x onerror=alert(1)><script>window.__pwned = 1</script><b hx-get="/api/jobs" hx-trigger="load">x</b>';
    await page.fill('#message', hostile);
    await page.click('button[type="submit"]');
    const card = page.locator('.card', { hasText: '<img src=x onerror=alert(1)>' });
    await card.waitFor({ timeout: 5_000 });
    await expect(card.locator('.message').textContent()).resolves.toBe(hostile);
    expect(await page.locator('#cards img, #cards script, #cards b').count()).toBe(0);
    await page.waitForTimeout(1500);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(alerts).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, `${shots}6-hostile-message.png`) });
  });

  it('shows what was wrong with bad input, in the form', async () => {
    await page.fill('#message', '   ');
    // The browser's own `required` check passes whitespace: the server's answer is shown.
    await page.click('button[type="submit"]');
    await page.locator('#form-error .error').waitFor({ timeout: 5_000 });
    await expect(page.locator('#form-error').textContent()).resolves.toBe('message must not be empty or only whitespace');
  });
});
