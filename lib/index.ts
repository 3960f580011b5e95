// Public API of lib/.
export * from './types.ts';
export { runServer, Server } from './server.ts';
export type { ServerOptions, ServerStatus, StopOptions } from './server.ts';
export { file } from './file.ts';
