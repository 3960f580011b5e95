// npm run build: dist/ for the package.
// - tsc type-checks the four layers and writes the .d.ts files (only those the entry
//   points' declarations reach are kept).
// - The JavaScript: one minified ESM file per entry point (dist/<layer>/index.js, and
//   dist/lib/<name>.js for lib/'s router, middleware, cluster and proxy entries), written
//   by esbuild (it comes with tsx). An entry imports what other entries own through
//   their files, so `httpkit` and `httpkit/parser` hand out the same classes. lib/'s
//   dynamic import (the WebSocket half of channels) is a chunk beside it. Loading two
//   files (lib and parser) for a server instead of one per source file is what keeps
//   start-up time and RSS near node:http's, and the tarball small. Source maps (to the
//   .ts sources) stay in dist/ and are not packed.
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
const LAYERS = ['lib', 'parser', 'websocket', 'client'];
// Entry points by layer (source files without .ts; the package's exports map names them).
// lib/'s extra entries own their files below; the rest of lib/ is the core (`httpkit`).
const ENTRY_POINTS = [
  'lib/index', 'lib/router', 'lib/middleware', 'lib/cluster', 'lib/proxy',
  'parser/index', 'websocket/index', 'client/index',
];
const LIB_OWNERS = {
  'lib/router': ['lib/router.ts'],
  'lib/middleware': ['lib/middleware.ts', 'lib/middleware/', 'lib/static.ts', 'lib/static-ranges.ts', 'lib/mime.ts', 'lib/fetch-adapter.ts'],
  'lib/cluster': ['lib/cluster.ts', 'lib/cluster-workers.ts', 'lib/pubsub.ts'],
  'lib/proxy': ['lib/proxy.ts', 'lib/proxy-protocol.ts', 'lib/proxy-listener.ts', 'lib/forwarded.ts'],
};
// Small stateless helpers each lib/ entry that uses them carries a copy of.
const SHARED = ['lib/param-map.ts'];

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

// Private members say nothing to a user but keep a class nominal: one private line per
// class keeps that, the rest go (they are a tenth of the declarations' size). Protected
// members go too: they are the parser's hooks for its two subclasses, not an API. Then
// imports nothing in the file uses any more are dropped, so the files only those
// members named are not shipped.
const declarations = [...filesEnding(dist, '.d.ts')];
for (const file of declarations) {
  let seenPrivate = false;
  const lines = readFileSync(file, 'utf8').split('\n').filter((line) => {
    if (/^\S.*\bclass\b.*\{$/.test(line)) seenPrivate = false;
    if (/^ {4}protected |^ {4}private (?:get|set) /.test(line)) return false;
    if (!/^ {4}private (?:readonly )?[\w$]+;$/.test(line)) return true;
    if (seenPrivate) return false;
    return (seenPrivate = true);
  });
  writeFileSync(file, withoutUnusedImports(lines).join('\n'));
}

/** The lines without the names of single-line `import { ... } from` statements that nothing else in them uses. */
function withoutUnusedImports(lines) {
  const IMPORT = /^import (type )?\{([^}]*)\} from (['"][^'"]+['"]);$/;
  const rest = lines.filter((l) => !IMPORT.test(l)).join('\n');
  const used = (name) => new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$])`).test(rest);
  return lines.flatMap((line) => {
    const m = IMPORT.exec(line);
    if (m === null) return [line];
    const kept = m[2].split(',').map((n) => n.trim()).filter((n) => n !== '' && used(n.replace(/^type /, '').split(/\s+as\s+/).pop()));
    return kept.length === 0 ? [] : [`import ${m[1] ?? ''}{ ${kept.join(', ')} } from ${m[3]};`];
  });
}

// Declarations reachable from the entry points' index.d.ts.
const reachable = new Set();
const visit = (file) => {
  if (reachable.has(file)) return;
  reachable.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(RELATIVE_SPECIFIER)) visit(declarationOf(file, m[3]));
};
for (const entry of ENTRY_POINTS) visit(join(dist, `${entry}.d.ts`));
for (const file of declarations) if (!reachable.has(file)) rmSync(file);

// One declaration file for the package instead of ~60: each module becomes an ambient
// `declare module "httpkit@<version>/<path>"` block (the version keeps two installed
// copies apart), and each entry point's .d.ts re-exports its block. In the packed
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
    writeFileSync(join(dist, `${entry}.d.ts`), `/// <reference path="../httpkit.d.ts" />\nexport * from "${idOf(join(dist, `${entry}.d.ts`))}";\n`);
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
  // One bundle per entry point: its imports of what another entry owns stay imports of
  // that entry's file (so `httpkit` and `httpkit/parser` hand out the same classes),
  // everything else it reaches is in its one file. Dynamic imports of its own files
  // become chunks beside it (lib/: the WebSocket half of channels).
  for (const entry of ENTRY_POINTS) {
    const [layer, name] = entry.split('/');
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: { [name]: join(root, `${entry}.ts`) },
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
      plugins: [otherEntriesExternal(entry)],
    });
  }
}

/** The entry point owning a source file (path relative to the root, with .ts). */
function ownerOf(file) {
  if (SHARED.includes(file)) return null;
  const [layer] = file.split('/');
  if (layer !== 'lib') return LAYERS.includes(layer) ? `${layer}/index` : null;
  for (const [entry, owned] of Object.entries(LIB_OWNERS)) {
    if (owned.some((o) => (o.endsWith('/') ? file.startsWith(o) : file === o))) return entry;
  }
  return 'lib/index';
}

/**
 * esbuild plugin: an import of a file another entry point owns becomes an import of
 * that entry's built file (which must export the names imported). Within lib/, only an
 * entry file, or the core's files from another lib/ entry, may be imported that way;
 * anything else would copy one entry's internals into another, so the build stops.
 */
function otherEntriesExternal(self) {
  const [selfLayer] = self.split('/');
  return {
    name: 'other-entries-external',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const file = relative(root, resolve(args.resolveDir, args.path)).split(/[\\/]/).join('/');
        const owner = ownerOf(file);
        if (owner === null || owner === self) return undefined;
        const [layer, name] = owner.split('/');
        const isEntryFile = file === `${owner}.ts`;
        // Another layer: its index is imported, a small file of it (close codes) copied.
        if (layer !== selfLayer) return isEntryFile ? { path: `../${layer}/${name}.js`, external: true } : undefined;
        // lib/'s core may reach an entry file of its own layer by import() only; the other
        // lib entries import the core's internals through its file (lib/index.ts exports them).
        const viaCore = layer === 'lib' && owner === 'lib/index' && selfLayer === 'lib';
        if (!isEntryFile && !viaCore) {
          throw new Error(`${self}: imports ${file}, which ${owner} owns; import it from ${owner}.ts`);
        }
        if (layer === 'lib' && self === 'lib/index' && args.kind !== 'dynamic-import') {
          throw new Error(`${self}: a static import of ${file} would load ${owner} with every server; use import()`);
        }
        return { path: layer === selfLayer ? `./${name}.js` : `../${layer}/${name}.js`, external: true };
      });
    },
  };
}
