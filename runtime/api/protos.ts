// Layotto's runtime API (spec.proto.runtime.v1), loaded from the .proto files in proto/
// (copied from mosn/layotto; see proto/README.md), so names, methods and field numbers are
// Layotto's own.
import { resolve } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_ROOT = resolve(import.meta.dirname, '../../proto');
export const RUNTIME_PROTO = 'spec/proto/runtime/v1/runtime.proto';
export const RUNTIME_SERVICE = 'spec.proto.runtime.v1.Runtime';
export const APP_CALLBACK_SERVICE = 'spec.proto.runtime.v1.AppCallback';

// Field names exactly as in the .proto files; 64-bit numbers as strings (GetNextId);
// enums by name; absent fields filled with their defaults, so handlers read '' and [].
const OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_ROOT] };

let definition: protoLoader.PackageDefinition | undefined;

export function runtimeDefinition(): protoLoader.PackageDefinition {
  definition ??= protoLoader.loadSync(RUNTIME_PROTO, OPTIONS);
  return definition;
}

export type ServiceDefinition = Record<string, protoLoader.MethodDefinition<unknown, unknown>>;

export function service(name: typeof RUNTIME_SERVICE | typeof APP_CALLBACK_SERVICE): ServiceDefinition {
  return runtimeDefinition()[name] as unknown as ServiceDefinition;
}
