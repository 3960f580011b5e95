// Built-ins the server needs only for some requests (HTTPS, file bodies, static files,
// uploads). They load on first call rather than at import: a plain HTTP server starts
// without node:tls, node:crypto, node:fs and node:fs/promises, nearer node:http's start-up
// time and RSS. (An ESM import of node:fs alone costs about 2 MB of RSS.)
import { createRequire } from 'node:module';

// process.getBuiltinModule (Node 20.16+) loads a built-in without an ESM facade: importing
// 'node:util', 'node:buffer' or 'node:fs' as ESM reads every export, which loads their lazy
// parts (parseArgs, MIMEType, File, fs streams...) and costs about 0.4-2 MB of RSS each.
// Older Node 20 falls back to createRequire. (No top-level await here: it would make
// require() of the package fail where Node supports require of ES modules.)
const load: (id: string) => unknown =
  typeof process.getBuiltinModule === 'function' ? (id) => process.getBuiltinModule(id) : createRequire(import.meta.url);
type Cluster = typeof import('node:cluster').default;
let clusterModule: Cluster | undefined;
let cryptoModule: typeof import('node:crypto') | undefined;
let fsModule: typeof import('node:fs') | undefined;
let fsPromisesModule: typeof import('node:fs/promises') | undefined;
let osModule: typeof import('node:os') | undefined;
let tlsModule: typeof import('node:tls') | undefined;

/** node:util, loaded at once (it is cheap without the ESM facade): debuglog, inspect.custom. */
export const util = load('node:util') as typeof import('node:util');
/**
 * node:net, loaded at once (every server needs it). Not imported as ESM: its facade reads
 * every export, which loads net's lazy BlockList and SocketAddress modules (about 35 KB
 * of young generation at start-up) for nothing.
 */
export const net = load('node:net') as typeof import('node:net');

/** node:cluster (with child_process and dgram behind it): only pub/sub and `workers` need it. */
export const cluster = (): Cluster => (clusterModule ??= load('node:cluster') as Cluster);
export const crypto = (): typeof import('node:crypto') => (cryptoModule ??= load('node:crypto') as typeof import('node:crypto'));
export const fs = (): typeof import('node:fs') => (fsModule ??= load('node:fs') as typeof import('node:fs'));
export const fsPromises = (): typeof import('node:fs/promises') => (fsPromisesModule ??= load('node:fs/promises') as typeof import('node:fs/promises'));
export const os = (): typeof import('node:os') => (osModule ??= load('node:os') as typeof import('node:os'));
export const tls = (): typeof import('node:tls') => (tlsModule ??= load('node:tls') as typeof import('node:tls'));
