// Installs the dev dependencies (tsx, typescript) when node_modules is missing,
// so `npm start` and `npm test` work on a fresh clone.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'node_modules', '.bin', 'tsx')) || !existsSync(join(root, 'node_modules', 'typescript'))) {
  console.error('httpkit: installing dev dependencies (tsx, typescript)...');
  execSync('npm install --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
