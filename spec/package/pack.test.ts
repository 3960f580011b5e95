// The package as users get it: `npm run build`, `npm pack`, the tarball installed into a
// fresh project with no tsx and no TypeScript, then the examples in plain JavaScript run
// there against each other over 127.0.0.1, and a TypeScript consumer type-checked in
// strict mode against the published .d.ts (no `any` reaching users).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { findAnyLeaks } from './any-scan.ts';
import { buildPackInstall, repoRoot, type InstalledPackage } from './pack-helpers.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const ENTRIES = {
  httpkit: 'lib/index', 'httpkit/router': 'lib/router', 'httpkit/middleware': 'lib/middleware', 'httpkit/cluster': 'lib/cluster', 'httpkit/proxy': 'lib/proxy',
  'httpkit/parser': 'parser/index', 'httpkit/websocket': 'websocket/index', 'httpkit/client': 'client/index',
} as const;

let pkg: InstalledPackage;
let server: ChildProcessByStdio<Writable, Readable, Readable> | null = null;

before(() => {
  pkg = buildPackInstall();
});

after(async () => {
  if (server && server.exitCode === null) {
    server.stdin.end();
    const killer = setTimeout(() => server?.kill('SIGKILL'), 3000);
    await new Promise((r) => server!.once('exit', r));
    clearTimeout(killer);
  }
  if (pkg) rmSync(pkg.dir, { recursive: true, force: true });
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function runNode(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the tarball holds compiled JS, declarations, README and LICENSE: no sources, maps, tests or dependencies', { timeout: 30_000 }, () => {
  const shipped = files(pkg.installed).map((f) => relative(pkg.installed, f)).sort();
  const unexpected = shipped.filter(
    (f) => !/^dist\/(parser|websocket|client)\/index\.(d\.ts|js)$|^dist\/lib\/[\w-]+\.(d\.ts|js)$|^dist\/httpkit\.d\.ts$/.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f),
  );
  assert.deepEqual(unexpected, []);
  for (const file of Object.values(ENTRIES)) {
    assert.ok(shipped.includes(`dist/${file}.js`), `dist/${file}.js shipped`);
    assert.ok(shipped.includes(`dist/${file}.d.ts`), `dist/${file}.d.ts shipped`);
  }
  // The declarations are one file of ambient module blocks; each entry's index.d.ts
  // re-exports its block, and every block a declaration names is in that file.
  const declarations = readFileSync(join(pkg.installed, 'dist', 'httpkit.d.ts'), 'utf8');
  const declared = new Set([...declarations.matchAll(/^declare module "([^"]+)" \{$/gm)].map((m) => m[1]!));
  assert.ok(declared.size > 10, `${declared.size} module blocks`);
  for (const f of shipped.filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(join(pkg.installed, f), 'utf8');
    assert.doesNotMatch(text, /(?:\bfrom\s*|\bimport\s*\(\s*)['"]\.{1,2}\//, `${f} has no relative import`);
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)['"](httpkit@[^'"]+)['"]/g)) {
      assert.ok(declared.has(m[1]!), `${f} names ${m[1]}, which is declared`);
    }
  }
  const manifest = JSON.parse(readFileSync(join(pkg.installed, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(Object.keys((manifest.dependencies as object | undefined) ?? {}).length, 0);
  assert.deepEqual(manifest.engines, { node: '>=20' });
  // The consumer project got httpkit and nothing else: no tsx, no TypeScript.
  assert.deepEqual(readdirSync(join(pkg.project, 'node_modules')).filter((n) => !n.startsWith('.')), ['httpkit']);
});

test('each entry point imports with plain node; internal paths are not exported', { timeout: 30_000 }, () => {
  const probe = `
    const out = {};
    for (const name of ${JSON.stringify(Object.keys(ENTRIES))}) out[name] = Object.keys(await import(name)).sort();
    try { await import('httpkit/dist/lib/server.js'); out.deep = 'imported'; } catch (e) { out.deep = e.code; }
    process.stdout.write(JSON.stringify(out));`;
  const r = runNode(['--input-type=module', '-e', probe], pkg.project);
  assert.equal(r.status, 0, r.stderr);
  const exportsOf = JSON.parse(r.stdout) as Record<string, string[] | string>;
  for (const name of ['runServer', 'asChannel', 'asyncResponse', 'ifWsRequest', 'onMesg', 'sendMesg', 'asEventStream', 'WebSocketChannel'])
    assert.ok(exportsOf.httpkit!.includes(name), `httpkit exports ${name}`);
  // The core does not carry routing, middleware, cluster or proxy code.
  for (const name of ['routes', 'wrapParams', 'ClusterServer', 'TrustedProxies']) assert.ok(!exportsOf.httpkit!.includes(name), `httpkit does not export ${name}`);
  for (const name of ['routes', 'GET', 'context', 'notFound']) assert.ok(exportsOf['httpkit/router']!.includes(name), `httpkit/router exports ${name}`);
  for (const name of ['wrap', 'wrapParams', 'wrapJson', 'wrapCookies', 'wrapMultipart', 'serveStatic', 'wrapStatic', 'mimeType']) assert.ok(exportsOf['httpkit/middleware']!.includes(name), `httpkit/middleware exports ${name}`);
  for (const name of ['ClusterServer', 'LocalPubSub', 'processPubSub']) assert.ok(exportsOf['httpkit/cluster']!.includes(name), `httpkit/cluster exports ${name}`);
  for (const name of ['parseProxyHeader', 'TrustedProxies', 'applyForwarded']) assert.ok(exportsOf['httpkit/proxy']!.includes(name), `httpkit/proxy exports ${name}`);
  for (const name of ['RequestParser', 'ResponseParser', 'ParseError', 'parseRequests']) assert.ok(exportsOf['httpkit/parser']!.includes(name), `httpkit/parser exports ${name}`);
  for (const name of ['WebSocket', 'connect', 'acceptUpgrade', 'Receiver', 'Sender']) assert.ok(exportsOf['httpkit/websocket']!.includes(name), `httpkit/websocket exports ${name}`);
  for (const name of ['get', 'post', 'request', 'createClient', 'delete']) assert.ok(exportsOf['httpkit/client']!.includes(name), `httpkit/client exports ${name}`);
  assert.equal(exportsOf.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
});

test('CommonJS code can require() each entry point where Node loads ES modules that way', { timeout: 30_000, skip: process.features.require_module !== true && 'this Node has no require(esm)' }, () => {
  // A top-level await anywhere in the graph would make this throw ERR_REQUIRE_ASYNC_MODULE.
  const probe = `const out = {}; for (const name of ${JSON.stringify(Object.keys(ENTRIES))}) out[name] = Object.keys(require(name)).length; process.stdout.write(JSON.stringify(out));`;
  writeFileSync(join(pkg.project, 'require-probe.cjs'), probe);
  const r = runNode(['--no-warnings', 'require-probe.cjs'], pkg.project);
  assert.equal(r.status, 0, r.stderr);
  const counts = JSON.parse(r.stdout) as Record<string, number>;
  for (const name of Object.keys(ENTRIES)) assert.ok(counts[name]! > 3, `${name}: ${counts[name]} exports`);
});

test('the examples in plain JavaScript: server and client from the installed package, over 127.0.0.1', { timeout: 60_000 }, async () => {
  for (const f of ['server.mjs', 'client.mjs']) copyFileSync(join(fixtures, f), join(pkg.project, f));
  const child = spawn(process.execPath, ['server.mjs'], { cwd: pkg.project, stdio: ['pipe', 'pipe', 'pipe'] });
  server = child;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  assert.ok(port > 0);

  const client = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, ['client.mjs', String(port)], { cwd: pkg.project, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.once('close', (code) => resolve({ code, stdout, stderr: err }));
  });
  assert.equal(client.code, 0, `client failed: ${client.stderr}\nserver: ${stderr}`);
  const got = JSON.parse(client.stdout) as Record<string, unknown>;

  assert.deepEqual(got.helloAwait, { status: 200, type: 'text/plain', body: 'hello world from /', error: null });
  assert.equal(got.helloCallback, '200 hello world from /');
  assert.deepEqual(got.async, { status: 200, body: 'answered later' });
  assert.equal(got.missing, 404);
  assert.deepEqual(got.form, { status: 200, body: { method: 'post', form: { name: 'Ada Lovelace', lang: ['js', 'clj'], note: 'a&b=c' } }, error: null });
  assert.deepEqual(got.wsPlain, { status: 400, body: 'WebSocket only' });
  assert.deepEqual(got.wsEcho, { got: [{ text: 'héllo', bytes: null }], code: 1000 });
  assert.deepEqual(got.wsEchoBinary, { got: [{ text: null, bytes: [0, 1, 2, 255] }], code: 1000 });
  assert.deepEqual(got.wsChannel, { got: [{ text: 'SHOUT', bytes: null }], code: 1000 });

  // Stops cleanly when told to.
  child.stdin.end();
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
});

test('options served by httpkit/cluster and httpkit/proxy load them from the installed package: workers, trustedProxies, proxyProtocol', { timeout: 60_000 }, () => {
  copyFileSync(join(fixtures, 'options.mjs'), join(pkg.project, 'options.mjs'));
  const r = runNode(['options.mjs'], pkg.project);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { workers: number; primary: number; forwarded: Record<string, unknown>; proxied: Record<string, unknown> };
  assert.equal(got.workers, 2);
  // Answered by a worker, which believed the loopback proxy's X-Forwarded-* ...
  assert.notEqual(got.forwarded.pid, got.primary);
  assert.equal(got.forwarded.remoteAddr, '203.0.113.7');
  assert.equal(got.forwarded.scheme, 'https');
  // ... and read the PROXY protocol header.
  assert.equal(got.proxied.remoteAddr, '198.51.100.9');
});

function consumerConfig(files: string[], resolution: 'NodeNext' | 'Bundler' = 'NodeNext'): string {
  return JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: resolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
      moduleResolution: resolution,
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [join(repoRoot, 'node_modules', '@types')],
    },
    files,
  });
}

test('a strict TypeScript consumer type-checks against the published declarations', { timeout: 60_000 }, () => {
  // Kept as .txt in the repo: it imports the published package, which exists only once installed.
  copyFileSync(join(fixtures, 'consumer.ts.txt'), join(pkg.project, 'consumer.ts'));
  writeFileSync(join(pkg.project, 'tsconfig.json'), consumerConfig(['consumer.ts']));
  const ok = spawnSync(process.execPath, [tsc, '-p', pkg.project], { cwd: pkg.project, encoding: 'utf8', timeout: 60_000 });
  assert.equal(ok.status, 0, `tsc: ${ok.stdout}${ok.stderr}`);
  // The exports map's types conditions, as a bundler-style project resolves them.
  writeFileSync(join(pkg.project, 'tsconfig.json'), consumerConfig(['consumer.ts'], 'Bundler'));
  const bundler = spawnSync(process.execPath, [tsc, '-p', pkg.project], { cwd: pkg.project, encoding: 'utf8', timeout: 60_000 });
  assert.equal(bundler.status, 0, `tsc (moduleResolution Bundler): ${bundler.stdout}${bundler.stderr}`);

  // The same file with its @ts-expect-error lines dropped must fail once per misuse:
  // proof that the declarations are precise enough to catch each one.
  const source = readFileSync(join(fixtures, 'consumer.ts.txt'), 'utf8');
  const misuses = source.split('\n').filter((l) => l.trim().startsWith('// @ts-expect-error')).length;
  writeFileSync(join(pkg.project, 'unchecked.ts'), source.replace(/^\s*\/\/ @ts-expect-error.*$/gm, ''));
  writeFileSync(join(pkg.project, 'tsconfig.json'), consumerConfig(['unchecked.ts']));
  const bad = spawnSync(process.execPath, [tsc, '-p', pkg.project], { cwd: pkg.project, encoding: 'utf8', timeout: 60_000 });
  const errorLines = bad.stdout.split('\n').filter((l) => /^unchecked\.ts\(\d+,\d+\): error/.test(l));
  assert.ok(misuses >= 7, 'the consumer checks misuses');
  assert.equal(new Set(errorLines.map((l) => /\((\d+),/.exec(l)![1])).size, misuses, bad.stdout);
});

function declarationProgram(entries: Record<string, string>): ts.Program {
  return ts.createProgram(Object.values(entries), {
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    typeRoots: [join(repoRoot, 'node_modules', '@types')],
    noEmit: true,
  });
}

test('no `any` is reachable from any public export (types, signatures, properties)', { timeout: 60_000 }, () => {
  const entries = Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, join(pkg.installed, 'dist', `${file}.d.ts`)]));
  const program = declarationProgram(entries);
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(findAnyLeaks(program, entries).map((l) => l.path), []);

  // The scan finds an `any` where there is one (a control, so the check above can fail).
  const control = join(pkg.dir, 'control');
  rmSync(control, { recursive: true, force: true });
  const decl = join(control, 'index.d.ts');
  mkdirSync(control);
  writeFileSync(
    decl,
    [
      'export interface Opts { ok: string; nested: { deep: any } }',
      'export declare function f(o: Opts): Promise<string>;',
      'export declare const g: () => any;',
      'export declare function h(): Promise<any>;',
      'export type Loose = Record<string, any>;',
      'export declare class C { private hidden: any; field: Map<string, any[]>; }',
      '',
    ].join('\n'),
  );
  const leaks = findAnyLeaks(declarationProgram({ control: decl }), { control: decl }).map((l) => l.path);
  // Each leaking type is reported once, by the first path that reaches it; private members are not reachable.
  const found = leaks.join(', ');
  assert.ok(leaks.some((p) => p.endsWith('.nested.deep')), found);
  assert.ok(leaks.includes('control.g(0).return'), found);
  assert.ok(leaks.includes('control.h(0).return<0>'), found);
  assert.ok(leaks.some((p) => p.startsWith('control.Loose:type')), found);
  assert.ok(leaks.some((p) => p.startsWith('control.C') && p.includes('.field<1>')), found);
  assert.ok(!leaks.some((p) => p.includes('hidden')), found);
});
