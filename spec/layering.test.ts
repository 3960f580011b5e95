// The layering rule that lets each folder be vendored alone:
// parser <- websocket <- client <- lib, and no runtime dependencies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function tsFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const importRe = /(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(importRe)].map((m) => m[1]!);
}

const allowed: Record<string, string[]> = {
  parser: [],
  websocket: ['parser'],
  client: ['parser', 'websocket'],
  lib: ['parser', 'websocket', 'client', 'lib'],
};

for (const [folder, may] of Object.entries(allowed)) {
  test(`${folder}/ imports only node: built-ins and ${may.join(', ') || 'nothing else'}`, () => {
    const files = tsFiles(join(root, folder));
    assert.ok(files.length > 0, `${folder}/ has TypeScript files`);
    for (const file of files) {
      for (const spec of importsOf(file)) {
        if (spec.startsWith('node:')) continue;
        assert.ok(spec.startsWith('.'), `${file}: bare import ${spec} (no runtime dependencies)`);
        const target = join(dirname(file), spec);
        const top = target.slice(root.length + 1).split(/[\\/]/)[0]!;
        assert.ok(top === folder || may.includes(top), `${file} imports ${spec} (${top}/ is not allowed from ${folder}/)`);
      }
    }
  });
}

test('package.json has no runtime dependencies', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), []);
});
