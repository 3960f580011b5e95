// httpkit/proxy: the PROXY protocol (v1 and v2) and X-Forwarded-* from trusted proxies.
// runServer imports it for its `proxyProtocol` and `trustedProxies` options.
export { parseProxyHeader, proxyHeaderOf, V2_SIGNATURE } from './proxy-protocol.ts';
export type { ProxyProtocolMode, ProxyHeader, ProxyTlv, ProxyParse } from './proxy-protocol.ts';
export { TrustedProxies, applyForwarded } from './forwarded.ts';
/** @internal what runServer's `proxyProtocol` option runs. */
export { proxyProtocolServer, carryProxyHeader } from './proxy-listener.ts';
