// Dapr's pluggable component protocol (dapr.proto.components.v1), loaded from the .proto
// files in proto/ (copied from dapr/dapr; see proto/README.md), plus gRPC server
// reflection, which tells what a socket offers.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { MethodDefinition } from '@grpc/proto-loader';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_ROOT = resolve(import.meta.dirname, '../../proto');

import { SERVICES } from './services.ts';

export { SERVICES };

// Field names as in the .proto files; absent fields stay undefined, which is how an
// absent ETag (the key does not exist) is told apart from an empty value.
const LOAD_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true, includeDirs: [PROTO_ROOT] };

let dapr: protoLoader.PackageDefinition | undefined;

function daprDefinition(): protoLoader.PackageDefinition {
  dapr ??= protoLoader.loadSync(['dapr/proto/components/v1/state.proto', 'dapr/proto/components/v1/pubsub.proto'], LOAD_OPTIONS);
  return dapr;
}

// Loose by design: requests and responses are plain objects shaped by the .proto files.
export type Message = any;
export type Method = MethodDefinition<Message, Message>;

/** A method of a Dapr component service, e.g. method('state', 'Get'). */
export function method(service: keyof typeof SERVICES, name: string): Method {
  const definition = daprDefinition()[SERVICES[service]] as Record<string, Method> | undefined;
  const found = definition?.[name];
  if (!found) throw new Error(`${SERVICES[service]} has no method ${name} in ${PROTO_ROOT}`);
  return found;
}

let reflection: Record<'v1' | 'v1alpha', Method> | undefined;

/** ServerReflectionInfo of grpc.reflection.v1 and v1alpha, from the @grpc/reflection package's own .proto files. */
export function reflectionMethods(): Record<'v1' | 'v1alpha', Method> {
  if (reflection) return reflection;
  const root = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')), 'build', 'proto');
  const load = (version: 'v1' | 'v1alpha') => {
    const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, { ...LOAD_OPTIONS, includeDirs: [root] });
    return (definition[`grpc.reflection.${version}.ServerReflection`] as Record<string, Method>).ServerReflectionInfo!;
  };
  reflection = { v1: load('v1'), v1alpha: load('v1alpha') };
  return reflection;
}
