// Built-ins this folder needs only once a WebSocket is in use (handshake, masking,
// permessage-deflate, wss:). They load on first call rather than at import, so a server
// that imports the stack but has no WebSocket traffic yet starts faster and smaller.
import { createRequire } from 'node:module';

// process.getBuiltinModule (Node 20.16+) loads a built-in without an ESM facade: importing
// 'node:util', 'node:buffer' or 'node:fs' as ESM reads every export, which loads their lazy
// parts (parseArgs, MIMEType, File, fs streams...) and costs about 0.4-2 MB of RSS each.
// Older Node 20 falls back to createRequire. (No top-level await here: it would make
// require() of the package fail where Node supports require of ES modules.)
const load: (id: string) => unknown =
  typeof process.getBuiltinModule === 'function' ? (id) => process.getBuiltinModule(id) : createRequire(import.meta.url);
let cryptoModule: typeof import('node:crypto') | undefined;
let zlibModule: typeof import('node:zlib') | undefined;
let tlsModule: typeof import('node:tls') | undefined;

/** Buffer's UTF-8 validator, loaded at once (it is cheap without the ESM facade). */
export const { isUtf8 } = load('node:buffer') as typeof import('node:buffer');

export const crypto = (): typeof import('node:crypto') => (cryptoModule ??= load('node:crypto') as typeof import('node:crypto'));
export const zlib = (): typeof import('node:zlib') => (zlibModule ??= load('node:zlib') as typeof import('node:zlib'));
export const tls = (): typeof import('node:tls') => (tlsModule ??= load('node:tls') as typeof import('node:tls'));
