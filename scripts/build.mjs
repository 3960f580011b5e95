// npm run build: dist/ for the package.
// - tsc type-checks the four layers and writes the .d.ts files (only those the entry
//   points' declarations reach are kept).
// - The JavaScript: one minified ESM file per layer (dist/<layer>/index.js), written by
//   esbuild (it comes with tsx); a layer imports the layers below it through their
//   files, so `httpkit` and `httpkit/parser` hand out the same classes. lib/'s dynamic
//   import (the WebSocket half of channels) is a chunk beside it. Loading two files
//   (lib and parser) for a server instead of one per source file is what keeps start-up
//   time and RSS near node:http's, and the tarball small. Source maps (to the .ts
//   sources) stay in dist/ and are not packed.
// `npm run build -- --per-file` writes one minified .js per source file instead
// (the module graph as in the sources), for comparison: `npm run bench -- package` figures.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const perFile = argv.includes('--per-file');
// --out <dir>: build there instead of dist/ (the package tests and bench build into a
// temporary folder, so runs at the same time do not clobber each other's dist/).
const outIndex = argv.indexOf('--out');
const dist = outIndex >= 0 && argv[outIndex + 1] ? resolve(argv[outIndex + 1]) : join(root, 'dist');
const ENTRY_POINTS = ['lib', 'parser', 'websocket', 'client'];

// esbuild comes with tsx (a dev dependency); resolve it from there.
const fromTsx = createRequire(createRequire(join(root, 'package.json')).resolve('tsx'));
const esbuild = fromTsx('esbuild');

rmSync(dist, { recursive: true, force: true });
const tscArgs = ['-p', join(root, 'tsconfig.build.json'), '--outDir', dist];
if (!perFile) tscArgs.push('--emitDeclarationOnly');
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), ...tscArgs], { cwd: root, stdio: 'inherit' });

function* filesEnding(dir, suffix) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* filesEnding(p, suffix);
    else if (name.endsWith(suffix)) yield p;
  }
}

// A relative module specifier in a declaration file (static imports and exports, and
// import("...") types): groups 1 the text before it, 2 the quote, 3 the specifier.
const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|^import\s+)(['"])(\.{1,2}\/[^'"]+)\2/gm;
/** The declaration file a relative specifier in `file` names. */
const declarationOf = (file, spec) => resolve(dirname(file), spec).replace(/\.(?:d\.ts|ts|js)$/, '.d.ts');

// Declarations reachable from the entry points' index.d.ts.
const reachable = new Set();
const visit = (file) => {
  if (reachable.has(file)) return;
  reachable.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(RELATIVE_SPECIFIER)) visit(declarationOf(file, m[3]));
};
for (const entry of ENTRY_POINTS) visit(join(dist, entry, 'index.d.ts'));
for (const file of filesEnding(dist, '.d.ts')) if (!reachable.has(file)) rmSync(file);

// Private members say nothing to a user but keep a class nominal: one private line per
// class keeps that, the rest go (they are a tenth of the declarations' size).
for (const file of reachable) {
  let seenPrivate = false;
  const lines = readFileSync(file, 'utf8').split('\n').filter((line) => {
    if (/^\S.*\bclass\b.*\{$/.test(line)) seenPrivate = false;
    if (!/^ {4}private (?:readonly )?[\w$]+;$/.test(line)) return true;
    if (seenPrivate) return false;
    return (seenPrivate = true);
  });
  writeFileSync(file, lines.join('\n'));
}

// One declaration file for the package instead of ~60: each module becomes an ambient
// `declare module "httpkit@<version>/<path>"` block (the version keeps two installed
// copies apart), and each entry point's index.d.ts re-exports its block. In the packed
// tarball the per-file headers cost more than a tenth of the declarations.
if (!perFile) {
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const idOf = (file) => `httpkit@${version}/${relative(dist, file).replace(/\\/g, '/').replace(/\.d\.ts$/, '')}`;
  const references = new Set();
  const blocks = [];
  for (const file of [...reachable].sort()) {
    const body = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => (line.startsWith('///') ? (references.add(line.trim()), false) : true))
      // Inside an ambient module a top-level `declare` is implied (and not allowed).
      .map((line) => line.replace(/^(export )?declare /, '$1'))
      .join('\n')
      // Relative specifiers are not allowed there either: name the target's block.
      .replace(RELATIVE_SPECIFIER, (_, pre, q, spec) => `${pre}${q}${idOf(declarationOf(file, spec))}${q}`);
    blocks.push(`declare module "${idOf(file)}" {\n${body.trim()}\n}`);
    rmSync(file);
  }
  writeFileSync(join(dist, 'httpkit.d.ts'), [...references, ...blocks].join('\n') + '\n');
  for (const entry of ENTRY_POINTS) {
    writeFileSync(join(dist, entry, 'index.d.ts'), `/// <reference path="../httpkit.d.ts" />\nexport * from "${idOf(join(dist, entry, 'index.d.ts'))}";\n`);
  }
}

if (perFile) {
  for (const file of filesEnding(dist, '.js')) {
    // tsc wrote an inline source map; esbuild reads it and composes its own on top.
    const out = esbuild.transformSync(readFileSync(file, 'utf8'), {
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
} else {
  // One bundle per layer, as the sources are layered: a layer's imports of another
  // layer's index stay imports of that layer's file (so `httpkit` and `httpkit/parser`
  // hand out the same classes), everything else of the layer is in its one file.
  // Dynamic imports become chunks beside it (lib/: the WebSocket half of channels).
  for (const layer of ENTRY_POINTS) {
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: { index: join(root, layer, 'index.ts') },
      outdir: join(dist, layer),
      bundle: true,
      splitting: true,
      chunkNames: '[name]-[hash]',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      minify: true,
      legalComments: 'none',
      sourcemap: 'external',
      logLevel: 'warning',
      plugins: [otherLayersExternal(layer)],
    });
  }
}

/** esbuild plugin: an import of another layer's index.ts becomes an import of its built index.js. */
function otherLayersExternal(self) {
  return {
    name: 'other-layers-external',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const [layer, ...rest] = relative(root, resolve(args.resolveDir, args.path)).split(/[\\/]/);
        if (layer === self || !ENTRY_POINTS.includes(layer) || rest.join('/') !== 'index.ts') return undefined;
        return { path: `../${layer}/index.js`, external: true };
      });
    },
  };
}
