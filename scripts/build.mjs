// npm run build: tsc to dist/ (ESM .js + .d.ts), then each .js file minified on its own
// (no bundling: the module graph stays one file per source file) with its source map
// chained back to the .ts source. The maps stay in dist/ and are not packed (size budget).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

function* jsFiles(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* jsFiles(p);
    else if (name.endsWith('.js')) yield p;
  }
}

for (const file of jsFiles(dist)) {
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
