// npm run bench -- package [runs] [--per-file]
// Size, cold start and import cost of the packed package, each against its peer in the same run:
// - tarball size vs the 80 KB budget; the compiled JS each entry point loads vs its peer's;
// - cold start of the hello-world server (process start to first answered request, RSS then)
//   on the installed package vs the same app on node:http, runs alternating, medians;
// - importing httpkit/client alone vs undici (time, RSS added), runs alternating, medians.
// Everything runs the built dist JS with plain node, from a project the tarball was installed in.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildPackInstall, repoRoot } from '../../spec/package/pack-helpers.ts';

const args = process.argv.slice(2);
const RUNS = Number(args.find((a) => /^\d+$/.test(a)) ?? 25);
// --per-file: the package built with one module per source file (scripts/build.mjs --per-file).
const buildArgs = args.includes('--per-file') ? ['--per-file'] : [];
const TARBALL_BUDGET = 80_000;
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
// This process (the client side) on core 0, the measured servers on core 1.
if (hasTaskset) spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)]);

const HELLO_HTTPKIT = `import { runServer } from 'httpkit';
const server = await runServer(() => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'hello world\\n' }), { port: 0, host: '127.0.0.1' });
process.stdout.write(server.port + '\\n');
`;
const HELLO_NODE_HTTP = `import { createServer } from 'node:http';
const server = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hello world\\n'); });
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;
// Prints [ms to import, RSS added] for one module, in a fresh process.
const importProbe = (specifier: string) => `const rss0 = process.memoryUsage().rss; const t0 = performance.now();
await import(${JSON.stringify(specifier)});
const ms = performance.now() - t0; globalThis.gc?.();
process.stdout.write(JSON.stringify([ms, process.memoryUsage().rss - rss0]));
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function jsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsFiles(p));
    else if (name.endsWith('.js') || name.endsWith('.cjs') || name.endsWith('.mjs')) out.push(p);
  }
  return out;
}

function sizeOf(files: string[]): { raw: number; gz: number; files: number } {
  const all = Buffer.concat(files.map((f) => readFileSync(f)));
  return { raw: all.length, gz: gzipSync(all, { level: 9 }).length, files: files.length };
}

/** The JS files importing `entry` loads at once: it and its static relative imports (not import()). */
function loadedBy(entry: string, seen = new Set<string>()): string[] {
  if (seen.has(entry)) return [];
  seen.add(entry);
  for (const m of readFileSync(entry, 'utf8').matchAll(/\b(?:from|import)\s*["'](\.{1,2}\/[^"']+)["']/g)) loadedBy(join(dirname(entry), m[1]!), seen);
  return [...seen];
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Spawns `node app`, waits for its port, sends one GET, returns ms from spawn to the full response and RSS then. */
function coldStart(cwd: string, app: string): Promise<{ ms: number; rss: number }> {
  return new Promise((resolve, reject) => {
    const argv = hasTaskset ? ['taskset', '-c', '1', process.execPath, app] : [process.execPath, app];
    const t0 = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const fail = (e: Error) => { child.kill('SIGKILL'); reject(e); };
    const timer = setTimeout(() => fail(new Error(`${app}: no answer in 10 s`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (!out.includes('\n')) return;
      const port = Number(out.trim());
      const sock = connect(port, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
      let res = '';
      sock.on('data', (b) => {
        res += b.toString('latin1');
        if (!res.includes('hello world\n')) return;
        const ms = performance.now() - t0;
        const rss = rssOf(child.pid!);
        clearTimeout(timer);
        sock.destroy();
        child.kill('SIGKILL');
        if (!res.startsWith('HTTP/1.1 200 ')) reject(new Error(`${app}: ${res.slice(0, 40)}`));
        else child.once('exit', () => resolve({ ms, rss }));
      });
      sock.on('error', fail);
    });
  });
}

function importCost(cwd: string, specifier: string): { ms: number; rss: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', importProbe(specifier)], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import ${specifier}: ${r.stderr}`);
  const [ms, rss] = JSON.parse(r.stdout) as [number, number];
  return { ms, rss };
}

const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const rows: string[][] = [['measure', 'httpkit', 'peer', 'peer value', 'ratio', 'target', 'ok']];
const row = (m: string, v: string, peer: string, pv: string, r: string, target: string, ok: boolean) => rows.push([m, v, peer, pv, r, target, ok ? 'yes' : 'NO']);

console.log(`package bench: building${buildArgs.length ? ' (' + buildArgs.join(' ') + ')' : ''} and packing (${RUNS} runs per cold-start/import measure${hasTaskset ? ', measured process on core 1, client on core 0' : ''})`);
const pkg = buildPackInstall('httpkit-bench-', buildArgs);
try {
  const tarball = statSync(pkg.tarball).size;
  row('packed tarball', `${kb(tarball)} (${tarball} B)`, 'budget', `${kb(TARBALL_BUDGET)} (${TARBALL_BUDGET} B)`, ratio(tarball, TARBALL_BUDGET), '<= 1.00x', tarball <= TARBALL_BUDGET);

  const dist = join(pkg.installed, 'dist');
  const benchModules = join(repoRoot, 'bench', 'node_modules');
  // Peers: all of their JS (ws and undici load nearly all of it from their index).
  const peers: Record<string, [string, string[]]> = {
    parser: ['http-parser-js', jsFiles(join(benchModules, 'http-parser-js'))],
    websocket: ['ws', jsFiles(join(benchModules, 'ws'))],
    client: ['undici', jsFiles(join(benchModules, 'undici'))],
    '': ['', []],
  };
  // lib/'s other entry points load the core (lib/index.js) with them.
  const fileOf: Record<string, string> = { '': 'lib/index.js', router: 'lib/router.js', middleware: 'lib/middleware.js', cluster: 'lib/cluster.js', proxy: 'lib/proxy.js' };
  for (const layer of ['parser', 'websocket', 'client', '', 'router', 'middleware', 'cluster', 'proxy']) {
    const name = layer ? `httpkit/${layer}` : 'httpkit';
    const s = sizeOf(loadedBy(join(dist, fileOf[layer] ?? `${layer}/index.js`)));
    const [peerName, peerFiles] = peers[layer] ?? ['', []];
    const p = peerName ? sizeOf(peerFiles) : null;
    row(`${name} JS loaded (gzip)`, `${kb(s.raw)} (${kb(s.gz)}) ${s.files} files`, peerName || '-', p ? `${kb(p.raw)} (${kb(p.gz)})` : '-', p ? ratio(s.gz, p.gz) : '-', '(info)', true);
  }

  writeFileSync(join(pkg.project, 'hello-httpkit.mjs'), HELLO_HTTPKIT);
  writeFileSync(join(pkg.project, 'hello-node-http.mjs'), HELLO_NODE_HTTP);
  await coldStart(pkg.project, 'hello-httpkit.mjs'); // warm the disk cache for both
  await coldStart(pkg.project, 'hello-node-http.mjs');
  const hk = { ms: [] as number[], rss: [] as number[] };
  const nh = { ms: [] as number[], rss: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    for (const [app, acc] of (i % 2 ? [['hello-node-http.mjs', nh], ['hello-httpkit.mjs', hk]] : [['hello-httpkit.mjs', hk], ['hello-node-http.mjs', nh]]) as [string, typeof hk][]) {
      const r = await coldStart(pkg.project, app);
      acc.ms.push(r.ms);
      acc.rss.push(r.rss);
    }
  }
  const [hkMs, nhMs, hkRss, nhRss] = [median(hk.ms), median(nh.ms), median(hk.rss), median(nh.rss)];
  row('cold start to 1st response', `${hkMs.toFixed(1)} ms`, 'node:http', `${nhMs.toFixed(1)} ms`, ratio(hkMs, nhMs), '<= 1.10x', hkMs <= nhMs * 1.1);
  row('RSS after 1st response', mb(hkRss), 'node:http', mb(nhRss), ratio(hkRss, nhRss), '<= 1.00x', hkRss <= nhRss);

  const undiciEntry = join(benchModules, 'undici', 'index.js');
  const ic = { ms: [] as number[], rss: [] as number[] };
  const iu = { ms: [] as number[], rss: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    const order: [string, typeof ic][] = [['httpkit/client', ic], [undiciEntry, iu]];
    if (i % 2) order.reverse();
    for (const [spec, acc] of order) {
      const r = importCost(pkg.project, spec);
      acc.ms.push(r.ms);
      acc.rss.push(r.rss);
    }
  }
  const [icMs, iuMs, icRss, iuRss] = [median(ic.ms), median(iu.ms), median(ic.rss), median(iu.rss)];
  row('import httpkit/client: time', `${icMs.toFixed(1)} ms`, 'undici', `${iuMs.toFixed(1)} ms`, ratio(icMs, iuMs), '<= 1.00x', icMs <= iuMs);
  row('import httpkit/client: RSS added', mb(icRss), 'undici', mb(iuRss), ratio(icRss, iuRss), '<= 1.00x', icRss <= iuRss);
} finally {
  rmSync(pkg.dir, { recursive: true, force: true });
}

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
for (const [i, r] of rows.entries()) {
  console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
