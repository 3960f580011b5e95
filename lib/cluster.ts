// httpkit/cluster: all cores on node:cluster, and pub/sub across the workers.
// runServer imports it when its `workers` option is above 1.
export { ClusterServer } from './cluster-workers.ts';
export { LocalPubSub, ClusterPubSub, Topics, relayPubSub, processPubSub } from './pubsub.ts';
export type { PubSub, PubSubListener } from './pubsub.ts';
/** @internal what runServer's `workers` option runs. */
export { runWorkers, serveAsWorker } from './cluster-workers.ts';
