// Every ```ts block in README.md and docs/*.md is a program that runs to completion,
// unless its first line is `// snippet` (a fragment shown for shape only) or
// `// server` (a server that runs until stopped: it must print `listening on <url>`
// and answer a GET of that url, then it is stopped). Imports of the published names
// (`httpkit`, `httpkit/client`, ...) are pointed at this checkout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { get } from '../client/index.ts';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry: Record<string, string> = {
  httpkit: 'lib/index.ts',
  'httpkit/router': 'lib/router.ts',
  'httpkit/middleware': 'lib/middleware.ts',
  'httpkit/cluster': 'lib/cluster.ts',
  'httpkit/proxy': 'lib/proxy.ts',
  'httpkit/parser': 'parser/index.ts',
  'httpkit/websocket': 'websocket/index.ts',
  'httpkit/client': 'client/index.ts',
};

function blocks(file: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    out.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return out;
}

function pointAtCheckout(code: string): string {
  return code.replace(/(from\s+|import\s*\(\s*)(['"])([^'"]+)\2/g, (whole, lead: string, q: string, spec: string) => {
    const target = entry[spec];
    return target === undefined ? whole : `${lead}${q}${pathToFileURL(join(root, target)).href}${q}`;
  });
}

const files = [join(root, 'README.md'), ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(root, 'docs', f))];
const work = mkdtempSync(join(tmpdir(), 'httpkit-docs-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

for (const file of files) {
  for (const { line, code } of blocks(file)) {
    const name = `${file.slice(root.length + 1)}:${line}`;
    if (code.trimStart().startsWith('// snippet')) continue;
    const isServer = code.trimStart().startsWith('// server');
    test(`docs example ${name} ${isServer ? 'serves' : 'runs'}`, async () => {
      for (const spec of code.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        const s = spec[1]!;
        assert.ok(s.startsWith('node:') || s in entry, `${name}: import '${s}' is not a published name (use httpkit, httpkit/client, ...)`);
      }
      const path = join(work, `${name.replace(/[^\w]+/g, '_')}.mts`);
      writeFileSync(path, pointAtCheckout(code));
      if (isServer) return serveAndStop(name, path);
      const r = spawnSync(process.execPath, ['--import', 'tsx', path], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, PORT: '0' },
      });
      assert.equal(r.status, 0, `${name} exited with ${r.status} (${r.signal ?? ''})\n${r.stdout}\n${r.stderr}`);
    });
  }
}

/** Start a server example, wait for `listening on <url>`, GET the url, stop it. */
async function serveAndStop(name: string, path: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path], { cwd: root, env: { ...process.env, PORT: '0' } });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no 'listening on <url>' within 20 s\n${out}`)), 20_000);
      const look = (chunk: Buffer): void => {
        out += chunk.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on('data', look);
      child.stderr.on('data', look);
      void exited.then((code) => reject(new Error(`${name} exited with ${code} before listening\n${out}`)));
    });
    const res = await get(url, { timeout: 5000, as: 'text' });
    assert.equal(res.error, undefined, `${name}: GET ${url} failed: ${res.error?.message}`);
    assert.ok(res.status! >= 200 && res.status! < 500, `${name}: GET ${url} answered ${res.status}`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
