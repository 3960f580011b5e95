// Public API of `httpkit`: the server, its channels (long-polling, streaming, server-sent
// events, WebSocket) and the Ring types. The rest of lib/ is in entry points of its own,
// so a server loads and compiles only what it imports:
//   httpkit/router      lib/router.ts       routes, context, GET/POST/...
//   httpkit/middleware  lib/middleware.ts   params, JSON, cookies, uploads, static files, fetch handlers
//   httpkit/cluster     lib/cluster.ts      all cores (runServer's `workers`) and pub/sub
//   httpkit/proxy       lib/proxy.ts        PROXY protocol and X-Forwarded-* (runServer's proxy options)
export * from './types.ts';
export { runServer, Server } from './server.ts';
export type { ServerOptions, ServerStatus, StopOptions } from './server.ts';
export { file } from './file.ts';
export { takeOverSocket } from './takeover.ts';
export { asChannel, setWebSocketChannelFactory, HttpChannel } from './channel.ts';
export type { Channel, ChannelOptions, ChannelData, CloseStatus, WebSocketChannelFactory } from './channel.ts';
export { asyncResponse } from './async.ts';
export type { Respond } from './async.ts';
export { asEventStream, EventStream, formatEvent } from './sse.ts';
export type { ServerEvent, EventStreamOptions } from './sse.ts';
export { WebSocketChannel, closeStatusOf } from './ws-channel.ts';
export type { WebSocketChannelSettings } from './ws-channel.ts';
export { ifWsRequest, whenWsRequest, onMesg, sendMesg, onClose, closeConn } from './ws-compat.ts';
/** @internal httpkit/cluster's primary builds its Server on a context of its own. */
export { ServerContext } from './context.ts';
/** @internal the built-in loaders, shared with the other lib/ entry points. */
export { cluster, crypto, fs, fsPromises, os, util } from './builtins.ts';
