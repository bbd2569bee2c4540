// Names of the Dapr component services L8 speaks, and which L8 capability each provides.
// Kept free of gRPC imports so the runtime can name them without loading gRPC.
export const SERVICES = {
  state: 'dapr.proto.components.v1.StateStore',
  transactional: 'dapr.proto.components.v1.TransactionalStateStore',
  pubsub: 'dapr.proto.components.v1.PubSub',
} as const;

export const SERVICE_KINDS: Record<string, string> = {
  [SERVICES.state]: 'state',
  [SERVICES.pubsub]: 'pubsub',
};
