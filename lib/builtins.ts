// Built-ins the server needs only for some requests (HTTPS, file bodies, static files,
// uploads). They load on first call rather than at import: a plain HTTP server starts
// without node:tls, node:crypto, node:fs and node:fs/promises, nearer node:http's start-up
// time and RSS. (An ESM import of node:fs alone costs about 2 MB of RSS.)
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let cryptoModule: typeof import('node:crypto') | undefined;
let fsModule: typeof import('node:fs') | undefined;
let fsPromisesModule: typeof import('node:fs/promises') | undefined;
let osModule: typeof import('node:os') | undefined;
let tlsModule: typeof import('node:tls') | undefined;

export const crypto = (): typeof import('node:crypto') => (cryptoModule ??= load('node:crypto') as typeof import('node:crypto'));
export const fs = (): typeof import('node:fs') => (fsModule ??= load('node:fs') as typeof import('node:fs'));
export const fsPromises = (): typeof import('node:fs/promises') => (fsPromisesModule ??= load('node:fs/promises') as typeof import('node:fs/promises'));
export const os = (): typeof import('node:os') => (osModule ??= load('node:os') as typeof import('node:os'));
export const tls = (): typeof import('node:tls') => (tlsModule ??= load('node:tls') as typeof import('node:tls'));
