// Public API of lib/.
export * from './types.ts';
export { runServer, Server } from './server.ts';
export type { ServerOptions, ServerStatus, StopOptions } from './server.ts';
export { file } from './file.ts';
export * from './router.ts';
export { wrap, type Middleware } from './middleware/wrap.ts';
export { wrapParams, type ParamsOptions, type ParamsRequest } from './middleware/params.ts';
export { parseUrlEncoded, type ParamMap } from './middleware/urlencoded.ts';
export { wrapJson, json, isJsonType, type JsonOptions } from './middleware/json.ts';
export * from './middleware/cookies.ts';
export { wrapMultipart, UploadedFile, MultipartError, type MultipartOptions, type MultipartValue } from './middleware/multipart.ts';
export { serveStatic, wrapStatic, type StaticOptions } from './static.ts';
export { mimeType, DEFAULT_MIME_TYPE } from './mime.ts';
export * from './fetch-adapter.ts';
