// npm run build: tsc to dist/ (ESM .js + .d.ts), then each .js file minified on its own
// (no bundling: the module graph stays one file per source file) with its source map
// chained back to the .ts source. The maps stay in dist/ and are not packed (size budget),
// nor are the .d.ts files that no entry point's declarations reach.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  cwd: root,
  stdio: 'inherit',
});

// esbuild comes with tsx (a dev dependency); resolve it from there.
const fromTsx = createRequire(createRequire(join(root, 'package.json')).resolve('tsx'));
const { transformSync } = fromTsx('esbuild');

const ENTRY_POINTS = ['lib', 'parser', 'websocket', 'client'];

function* filesEnding(dir, suffix) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* filesEnding(p, suffix);
    else if (name.endsWith(suffix)) yield p;
  }
}

// Declarations reachable from the entry points' index.d.ts (static and import("...") types).
const reachable = new Set();
const visit = (file) => {
  if (reachable.has(file)) return;
  reachable.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    visit(resolve(dirname(file), m[1]).replace(/\.(?:d\.ts|ts|js)$/, '.d.ts'));
  }
};
for (const entry of ENTRY_POINTS) visit(join(dist, entry, 'index.d.ts'));
for (const file of filesEnding(dist, '.d.ts')) if (!reachable.has(file)) rmSync(file);

for (const file of filesEnding(dist, '.js')) {
  // tsc wrote an inline source map; esbuild reads it and composes its own on top.
  const out = transformSync(readFileSync(file, 'utf8'), {
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    sourcemap: 'external',
    sourcefile: basename(file),
  });
  writeFileSync(file, out.code);
  writeFileSync(`${file}.map`, out.map);
}
