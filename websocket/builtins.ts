// Built-ins this folder needs only once a WebSocket is in use (handshake, masking,
// permessage-deflate, wss:). They load on first call rather than at import, so a server
// that imports the stack but has no WebSocket traffic yet starts faster and smaller.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let cryptoModule: typeof import('node:crypto') | undefined;
let zlibModule: typeof import('node:zlib') | undefined;
let tlsModule: typeof import('node:tls') | undefined;

export const crypto = (): typeof import('node:crypto') => (cryptoModule ??= load('node:crypto') as typeof import('node:crypto'));
export const zlib = (): typeof import('node:zlib') => (zlibModule ??= load('node:zlib') as typeof import('node:zlib'));
export const tls = (): typeof import('node:tls') => (tlsModule ??= load('node:tls') as typeof import('node:tls'));
