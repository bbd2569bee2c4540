// Finding pluggable components: every Unix socket in the sockets folder is a component
// whose type is the socket's file name without extension; gRPC server reflection on the
// socket tells which component services it implements (Dapr's discovery rules).
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { reflectionMethods, type Message } from './protocol.ts';

export interface DiscoveredSocket {
  /** Component type: the socket file name without extension ("memstore" for memstore.sock). */
  type: string;
  socket: string;
  /** Fully qualified service names, e.g. dapr.proto.components.v1.StateStore. */
  services: string[];
}

export interface Discovery {
  folder: string;
  found: DiscoveredSocket[];
  /** Sockets that did not answer reflection, by type, with the reason. */
  failed: Map<string, string>;
}

/**
 * Lists the services a gRPC server implements, through server reflection (v1, else
 * v1alpha). `target` is a socket path or a gRPC target such as "127.0.0.1:34904".
 */
export async function listServices(target: string, timeoutMs = 2000): Promise<string[]> {
  const address = target.startsWith('/') ? `unix:${target}` : target;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const methods = reflectionMethods();
    try {
      return await ask(client, methods.v1, timeoutMs);
    } catch (error) {
      if ((error as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw error;
      return await ask(client, methods.v1alpha, timeoutMs);
    }
  } finally {
    client.close();
  }
}

function ask(client: grpc.Client, method: ReturnType<typeof reflectionMethods>['v1'], timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { deadline: Date.now() + timeoutMs });
    let done = false;
    call.on('data', (response: Message) => {
      if (done) return;
      done = true;
      if (response.error_response) reject(Object.assign(new Error(response.error_response.error_message), { code: response.error_response.error_code }));
      else resolve(((response.list_services_response?.service ?? []) as Array<{ name: string }>).map((s) => s.name));
      call.end();
    });
    call.on('error', (error) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
    call.write({ host: '', list_services: '' });
  });
}

/** Looks at every socket in `folder` at once; a missing folder means no components. */
export async function discover(folder: string, timeoutMs = 2000): Promise<Discovery> {
  const discovery: Discovery = { folder, found: [], failed: new Map() };
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return discovery;
    throw new Error(`cannot list the pluggable components folder ${folder}: ${(error as Error).message}`, { cause: error });
  }
  await Promise.all(
    names.sort().map(async (name) => {
      const socket = join(folder, name);
      const info = await stat(socket).catch(() => null);
      if (!info?.isSocket()) return;
      const type = name.slice(0, name.length - extname(name).length);
      try {
        discovery.found.push({ type, socket, services: await listServices(socket, timeoutMs) });
      } catch (error) {
        const e = error as grpc.ServiceError;
        discovery.failed.set(type, `socket ${socket} did not answer gRPC reflection: ${e.details || e.message}`);
      }
    }),
  );
  discovery.found.sort((a, b) => a.type.localeCompare(b.type));
  return discovery;
}
