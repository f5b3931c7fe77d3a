import type { Browser, BrowserContext } from 'playwright-core';
import { launchBrowser, newContext, seriousAxeViolations } from '../support/browser.js';

/**
 * The accessibility check every page test relies on can fail: axe runs in the page itself (legacy mode: one
 * injection, no blank page for the results; Stork's pages have no frames), and still reports what it should.
 */
describe('The axe check of the browser tests', () => {
  let browser: Browser;
  let context: BrowserContext;
  beforeAll(async () => {
    browser = await launchBrowser();
    context = await newContext(browser);
  });
  afterAll(async () => {
    await context.close();
    await browser.close();
  });

  it('reports an unlabelled input, an image without alternative text and text of too little contrast', async () => {
    const page = await context.newPage();
    await page.setContent(`<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body><main>
      <h1>Broken page</h1>
      <input type="text" name="nhs">
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
      <p style="color:#bbb;background:#fff">Hard to read</p>
    </main></body></html>`);
    const ids = (await seriousAxeViolations(page)).map((v) => v.split(' ')[1]?.replace(/:$/, ''));
    expect(ids).toEqual(expect.arrayContaining(['label', 'image-alt', 'color-contrast']));
  });

  it('reports nothing on a page with the same content made accessible', async () => {
    const page = await context.newPage();
    await page.setContent(`<!DOCTYPE html><html lang="en"><head><title>Fixed</title></head><body><main>
      <h1>Fixed page</h1>
      <label for="nhs">NHS number</label><input type="text" id="nhs" name="nhs">
      <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="A dot">
      <p style="color:#0b0c0c;background:#fff">Easy to read</p>
    </main></body></html>`);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });
});
