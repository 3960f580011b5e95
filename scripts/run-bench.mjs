// Runs one benchmark: npm run bench -- <name> [args...]
// Installs the comparison peers listed in bench/package.json first (never done by npm test).
import { existsSync, readdirSync } from 'node:fs';
import { execSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'bench');
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(benchDir).filter((d) => existsSync(join(benchDir, d, 'run.ts')));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (one of: ${available.join(', ')})`);
  process.exit(2);
}
if (!existsSync(join(benchDir, 'node_modules', '.package-lock.json'))) {
  console.error('bench: installing comparison peers from bench/package.json...');
  execSync('npm install --no-audit --no-fund', { cwd: benchDir, stdio: 'inherit' });
}
const r = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, name, 'run.ts'), ...args], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
