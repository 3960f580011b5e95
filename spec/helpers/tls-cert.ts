// A self-signed certificate for localhost / 127.0.0.1 / ::1, made once per test process
// with openssl. Throws when openssl is missing (see haveOpenssl and requirePeer).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { onPath } from './tools.ts';
import { tempDir } from './process.ts';

export const haveOpenssl = onPath('openssl');

export interface Cert {
  key: string;
  cert: string;
  /** Path of the certificate PEM file, for peers such as curl. */
  certPath: string;
  cleanup(): void;
}

let cached: Cert | null = null;

export function makeCert(): Cert {
  if (cached !== null) return cached;
  const dir = tempDir('cert');
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ], { stdio: 'ignore', timeout: 10_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  cached = {
    key: readFileSync(keyPath, 'utf8'),
    cert: readFileSync(certPath, 'utf8'),
    certPath,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  process.once('exit', cached.cleanup);
  return cached;
}
