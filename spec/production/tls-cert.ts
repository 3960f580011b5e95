// A self-signed certificate for localhost / 127.0.0.1 / ::1, made with openssl at test time.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';

export interface Cert {
  key: string;
  cert: string;
  /** Paths of the PEM files, for peers such as curl (removed by cleanup()). */
  certPath: string;
  cleanup(): void;
}

let cached: Cert | null = null;

export function makeCert(): Cert {
  if (cached !== null) return cached;
  const dir = tempDir('cert');
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  ], { stdio: 'ignore', timeout: 10_000 });
  cached = {
    key: readFileSync(keyPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
    certPath,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  process.once('exit', cached.cleanup);
  return cached;
}
