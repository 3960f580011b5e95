// Vendoring: each layer, copied with the layers under it into an empty folder, type-checks
// there in strict mode with nothing but @types/node: no import reaches outside the copy.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './pack-helpers.ts';

const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
const made: string[] = [];

after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

interface CheckResult {
  status: number | null;
  output: string;
  files: number;
}

/** Copies `folders` from the repo into a new empty folder with a minimal strict tsconfig, runs tsc there. */
async function vendorAndCheck(folders: readonly string[]): Promise<CheckResult> {
  const dir = mkdtempSync(join(tmpdir(), 'httpkit-vendor-'));
  made.push(dir);
  let files = 0;
  for (const f of folders) {
    cpSync(join(repoRoot, f), join(dir, f), { recursive: true });
    files += readdirSync(join(dir, f), { recursive: true }).filter((n) => String(n).endsWith('.ts')).length;
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        skipLibCheck: true, // @types/node is not ours to check; every copied .ts file is
        types: ['node'],
        typeRoots: [join(repoRoot, 'node_modules', '@types')],
      },
      include: folders.map((f) => `${f}/**/*.ts`),
    }),
  );
  // package.json with type module, as in a project that vendors ESM sources.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'vendored', private: true, type: 'module' }));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.once('close', (status) => resolve({ status, output, files }));
  });
}

// Two tsc processes at a time (the checks are independent; the machine has two cores).
const slots: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
let next = 0;
function schedule(folders: readonly string[]): Promise<CheckResult> {
  const i = next++ % slots.length;
  const run = slots[i]!.then(() => vendorAndCheck(folders));
  slots[i] = run.catch(() => undefined);
  return run;
}

const alone = [['parser'], ['websocket'], ['parser', 'websocket'], ['parser', 'client'], ['parser', 'websocket', 'client']] as const;
// Controls: a layer copied without the one it builds on must fail, so the checks above can.
const without = [[['client'], 'parser']] as const;
const pending = new Map<string, Promise<CheckResult>>();
for (const folders of [...alone, ...without.map(([f]) => f)]) pending.set(folders.join('+'), schedule(folders));

for (const folders of alone) {
  test(`vendored ${folders.join(' + ')}: type-checks alone`, { timeout: 120_000 }, async () => {
    const r = await pending.get(folders.join('+'))!;
    assert.ok(r.files >= folders.length * 3, `copied ${r.files} .ts files`);
    assert.equal(r.status, 0, r.output);
  });
}

for (const [folders, missing] of without) {
  test(`vendored ${folders.join(' + ')} without ${missing}: fails to type-check`, { timeout: 120_000 }, async () => {
    const r = await pending.get(folders.join('+'))!;
    assert.notEqual(r.status, 0);
    assert.match(r.output, new RegExp(`Cannot find module '\\.\\./${missing}/`));
  });
}
