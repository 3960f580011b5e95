// httpkit/middleware: handler wrappers (query and form params, JSON, cookies, multipart
// uploads), static files and fetch-style handlers.
export { wrap, type Middleware } from './middleware/wrap.ts';
export { wrapParams, type ParamsOptions, type ParamsRequest } from './middleware/params.ts';
export { parseUrlEncoded, type ParamMap } from './middleware/urlencoded.ts';
export { wrapJson, json, isJsonType, type JsonOptions } from './middleware/json.ts';
export * from './middleware/cookies.ts';
export { wrapMultipart, UploadedFile, MultipartError, type MultipartOptions, type MultipartValue } from './middleware/multipart.ts';
export { serveStatic, wrapStatic, type StaticOptions } from './static.ts';
export { mimeType, DEFAULT_MIME_TYPE } from './mime.ts';
export * from './fetch-adapter.ts';
