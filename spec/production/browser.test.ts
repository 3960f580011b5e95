// A real browser: headless chromium, driven over DevTools by our own WebSocket client,
// uses the demo's long-polling and WebSocket chats in two tabs each, and screenshots
// the demo index (saved as a test artefact; the path is printed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServer, type Server } from '../../lib/index.ts';
import { demoHandler } from '../../examples/demo.ts';
import { Browser, CHROMIUM, type Tab } from './cdp.ts';
import { CI } from './helpers.ts';
import { requirePeer } from '../helpers/tools.ts';

let server: Server | null = null;
let browser: Browser | null = null;
const T = { timeout: 60_000 };

before(async () => {
  if (CHROMIUM === null) {
    if (CI) throw new Error('chromium is required for the browser test in CI');
    return;
  }
  server = await runServer(demoHandler, { ip: '127.0.0.1', port: 0 });
  browser = await Browser.launch();
});

after(async () => {
  if (browser !== null) await browser.close();
  if (server !== null) await server.stop({ timeout: 100 });
});

const js = JSON.stringify;

/** Type into the chat form of `tab` and press its Send button, as a user would. */
async function say(tab: Tab, name: string, text: string): Promise<void> {
  await tab.eval(`(() => {
    document.getElementById('name').value = ${js(name)};
    const t = document.getElementById('text');
    t.focus();
    t.value = ${js(text)};
    t.dispatchEvent(new Event('input', { bubbles: true }));
    document.querySelector('#form button').click();
  })()`);
}

const shows = (text: string): string => `document.getElementById('log').textContent.includes(${js(text)})`;

test('browser: the long-polling chat in two tabs shows the messages of both', T, async (t) => {
  if (!requirePeer(browser, 'chromium', t)) return;
  const base = `http://127.0.0.1:${server!.port}`;
  const [a, b] = [await browser.open(`${base}/polling/`), await browser.open(`${base}/polling/`)];
  // Both tabs hold a poll open before anyone speaks.
  await new Promise((r) => setTimeout(r, 300));
  await say(a, 'ann', 'hello from tab A');
  for (const tab of [a, b]) await tab.waitFor(shows('ann: hello from tab A'));
  await say(b, 'bob', 'and back from tab B');
  for (const tab of [a, b]) await tab.waitFor(shows('bob: and back from tab B'));
  assert.equal(await a.eval(`document.getElementById('text').value`), '', 'the input is cleared after sending');
  const lines = await b.eval<string[]>(`[...document.querySelectorAll('#log p')].map((p) => p.textContent)`);
  assert.deepEqual(lines, ['ann: hello from tab A', 'bob: and back from tab B']);
});

test('browser: the WebSocket chat in two tabs shows the messages of both', T, async (t) => {
  if (!requirePeer(browser, 'chromium', t)) return;
  const base = `http://127.0.0.1:${server!.port}`;
  const a = await browser.open(`${base}/ws-chat/`);
  const b = await browser.open(`${base}/ws-chat/`);
  for (const tab of [a, b]) await tab.waitFor(`document.getElementById('status').textContent === 'connected'`);
  await a.waitFor(`document.getElementById('log').textContent.includes('2 online')`);
  await say(a, 'ann', 'ws hello from tab A');
  for (const tab of [a, b]) await tab.waitFor(shows('ann: ws hello from tab A'));
  await say(b, 'bob', 'ws reply from tab B');
  for (const tab of [a, b]) await tab.waitFor(shows('bob: ws reply from tab B'));
  const messages = await a.eval<string[]>(`[...document.querySelectorAll('#log p')].filter((p) => p.querySelector('b')).map((p) => p.textContent)`);
  assert.deepEqual(messages, ['ann: ws hello from tab A', 'bob: ws reply from tab B']);
});

test('browser: screenshot of the demo index (test artefact)', T, async (t) => {
  if (!requirePeer(browser, 'chromium', t)) return;
  const tab = await browser.open(`http://127.0.0.1:${server!.port}/`);
  assert.equal(await tab.eval('document.title'), 'httpkit demo');
  assert.equal(await tab.eval(`document.querySelectorAll('a[href="/polling/"], a[href="/ws-chat/"]').length`), 2);
  const png = await tab.screenshot();
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  assert.ok(width >= 800 && height >= 500, `a full page shot, got ${width}x${height}`);
  assert.ok(png.length > 10_000, 'the page has content (a blank page compresses to almost nothing)');
  const dir = join(tmpdir(), 'httpkit-artifacts');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'demo-index.png');
  writeFileSync(file, png);
  t.diagnostic(`screenshot: ${file}`);
  console.log(`screenshot of the demo index: ${file}`);
});
