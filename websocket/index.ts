// httpkit/websocket: RFC 6455 framing, handshake, permessage-deflate, client.
// Server use: acceptUpgrade() then new WebSocket(socket, { role: 'server', ... }, head)
// (or upgradeSocket() for both). Client use: connect(url).
export { WebSocket, OPEN, CLOSING, CLOSED, DEFAULT_MAX_PAYLOAD, DEFAULT_MAX_FRAMES } from './websocket.ts';
export type { WebSocketConnection, WebSocketOptions, SendOptions } from './websocket.ts';
export { acceptUpgrade, acceptKey, buildClientRequest, verifyServerResponse, parseResponseHead, WEBSOCKET_GUID } from './handshake.ts';
export type { AcceptOptions, UpgradeRequest, UpgradeResult, UpgradeAccepted, UpgradeRejected, HeaderLookup, ClientHandshakeOptions, ResponseHeadInfo } from './handshake.ts';
export { upgradeSocket } from './upgrade.ts';
export type { UpgradeSocketOptions } from './upgrade.ts';
export { connect, HandshakeError } from './client.ts';
export type { ConnectOptions } from './client.ts';
export { CloseCode, isValidCloseCode, MAX_CLOSE_REASON_BYTES } from './close-codes.ts';
export { WebSocketError } from './errors.ts';
export { Opcode, encodeFrame } from './frame.ts';
export { Receiver } from './receiver.ts';
export type { ReceiverHandler, ReceiverOptions } from './receiver.ts';
export { Sender } from './sender.ts';
export { PerMessageDeflate, parseExtensions, acceptDeflateOffer, deflateOffer, verifyDeflateResponse } from './deflate.ts';
export type { PerMessageDeflateOptions, DeflateParams, ExtensionOffer } from './deflate.ts';
export { utf8Continue, UTF8_ACCEPT, UTF8_REJECT } from './utf8.ts';
