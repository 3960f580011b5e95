// Builds the package, packs it and installs the tarball into a fresh temporary project,
// the way a user gets it: no tsx, no TypeScript, no registry (the package has no dependencies).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
// Bounded: a build, a pack or an offline install that hangs fails instead.
const quietNpm = { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] as ('ignore' | 'pipe')[], encoding: 'utf8' as const, timeout: 120_000 };

export interface InstalledPackage {
  /** The temporary folder holding the tarball and the consumer project. */
  dir: string;
  tarball: string;
  /** The consumer project: package.json and node_modules/httpkit. */
  project: string;
  /** node_modules/httpkit inside the project. */
  installed: string;
}

/**
 * `npm run build` into `dir`/stage/dist, then `npm pack` of a staging copy of the package
 * (package.json, README.md, LICENSE, dist/) into `dir`: the repo's own dist/ is left alone,
 * so two runs at once do not clobber each other. Returns the tarball path.
 */
export function buildAndPack(dir: string, buildArgs: string[] = []): string {
  const stage = join(dir, 'stage');
  mkdirSync(stage, { recursive: true });
  execFileSync(npm, ['run', 'build', '--', '--out', join(stage, 'dist'), ...buildArgs], quietNpm);
  for (const f of ['package.json', 'README.md', 'LICENSE']) copyFileSync(join(repoRoot, f), join(stage, f));
  // --ignore-scripts: prepack would build a second time.
  execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { ...quietNpm, cwd: stage });
  const tgz = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  if (tgz.length !== 1) throw new Error(`npm pack wrote ${tgz.length} tarballs in ${dir}`);
  return join(dir, tgz[0]!);
}

/** Builds, packs and installs into a fresh project under a new temporary folder. */
export function buildPackInstall(prefix = 'httpkit-pack-', buildArgs: string[] = []): InstalledPackage {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const tarball = buildAndPack(dir, buildArgs);
  const project = join(dir, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2));
  execFileSync(npm, ['install', tarball, '--offline', '--no-audit', '--no-fund', '--no-package-lock'], { ...quietNpm, cwd: project });
  return { dir, tarball, project, installed: join(project, 'node_modules', 'httpkit') };
}
