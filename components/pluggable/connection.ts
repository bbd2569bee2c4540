// One gRPC channel to a pluggable component's Unix socket, shared by every call of the
// component, with the behaviour a runtime needs from a component that may come and go:
//
// - Calls fail fast while the component is away (no waiting for it to come back) and are
//   bounded by a deadline while it is there but hangs, so callers get a clear error, not a hang.
// - The channel reconnects on its own, at most ~1 s apart, once the socket answers again.
// - A component process that restarted has forgotten its Init: when the connection was
//   lost, the next call first runs the component's init step again (Init + Features).
import * as grpc from '@grpc/grpc-js';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { Message, Method } from './protocol.ts';
import { fieldViolations } from './status-details.ts';

export interface ConnectionOptions {
  /** Component name in the runtime config ("state/orders" is kind/name). */
  kind: string;
  name: string;
  /** Component type = socket file name without extension. */
  type: string;
  socket: string;
  /** Deadline of every unary call. */
  timeoutMs: number;
}

/** Why a connection failed, in words; grpc-js details are long and mention resolver internals. */
function unreachableReason(details: string): string {
  if (/ENOENT/.test(details)) return 'its socket file does not exist';
  if (/ECONNREFUSED/.test(details)) return 'nothing listens on its socket (connection refused)';
  return details.replace(/\s*Resolution note:.*$/s, '').replace(/Last error: Error: /, 'last error: ');
}

/** Dapr multiplexes several components of one socket by this header. */
const INSTANCE_HEADER = 'x-component-instance';

export class PluggableConnection {
  readonly options: ConnectionOptions;
  readonly client: grpc.Client;
  private generation = 0;
  private initializedGeneration = -1;
  private initializing: Promise<void> | null = null;
  private initStep: (() => Promise<void>) | null = null;
  private closed = false;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.client = new grpc.Client(`unix:${options.socket}`, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      // The Dapr protocol allows 256 KiB+ messages and state values of several MiB.
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.max_send_message_length': 64 << 20,
    });
    this.watch(grpc.connectivityState.IDLE);
  }

  /** What this is, for messages: `pluggable state store "cache" (type memstore, socket /x/memstore.sock)`. */
  get what(): string {
    const { kind, name, type, socket } = this.options;
    return `pluggable ${kind} component "${name}" (type ${type}, socket ${socket})`;
  }

  /** Counts lost connections: each one means the component may have restarted. */
  private watch(previous: grpc.connectivityState): void {
    if (this.closed) return;
    const channel = this.client.getChannel();
    const state = channel.getConnectivityState(false);
    if (previous === grpc.connectivityState.READY && state !== grpc.connectivityState.READY) this.generation++;
    if (state === grpc.connectivityState.SHUTDOWN) return;
    channel.watchConnectivityState(state, Infinity, () => this.watch(state));
  }

  /** The component's init step; run now and again after every lost connection. */
  async init(step: () => Promise<void>): Promise<void> {
    this.initStep = step;
    await this.ensureInitialized();
  }

  private ensureInitialized(): Promise<void> {
    if (this.initializedGeneration === this.generation || !this.initStep) return Promise.resolve();
    if (!this.initializing) {
      const generation = this.generation;
      this.initializing = this.initStep()
        .then(() => {
          this.initializedGeneration = generation;
        })
        .finally(() => {
          this.initializing = null;
        });
    }
    return this.initializing;
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(INSTANCE_HEADER, this.options.name);
    return metadata;
  }

  /** One unary call of the init step itself (no re-init before it). */
  rawUnary(method: Method, request: Message, doing: string, timeoutMs = this.options.timeoutMs): Promise<Message> {
    if (this.closed) return Promise.reject(new ComponentError('unavailable', `${this.what} is closed (${doing})`));
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        this.metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => (error ? reject(this.error(error, doing, timeoutMs)) : resolve(response)),
      );
    });
  }

  /** A unary call, after re-running the init step if the connection was lost since. */
  async unary(method: Method, request: Message, doing: string, timeoutMs?: number): Promise<Message> {
    try {
      await this.ensureInitialized();
    } catch (error) {
      // Name the caller's operation: the re-Init is an internal step of it.
      const cause = (error as Error).cause;
      throw error instanceof ComponentError && error.code === 'unavailable' && cause ? this.error(cause, doing) : error;
    }
    return this.rawUnary(method, request, doing, timeoutMs);
  }

  /** Opens a bidirectional stream (no deadline: it lives as long as a subscription). */
  async bidi(method: Method): Promise<grpc.ClientDuplexStream<Message, Message>> {
    await this.ensureInitialized();
    if (this.closed) throw new ComponentError('unavailable', `${this.what} is closed`);
    return this.client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, this.metadata());
  }

  /** Translates a gRPC failure into a ComponentError that names the component and what to do. */
  error(error: unknown, doing: string, timeoutMs = this.options.timeoutMs): ComponentError {
    if (error instanceof ComponentError) return error;
    const e = error as grpc.ServiceError;
    const details = e.code === grpc.status.UNAVAILABLE ? unreachableReason(e.details || e.message) : e.details || e.message;
    if (this.closed) return new ComponentError('unavailable', `${this.what} is closed (${doing})`, { cause: error });
    switch (e.code) {
      case grpc.status.UNAVAILABLE:
      case grpc.status.CANCELLED:
        return new ComponentError('unavailable', `${this.what} is unreachable (${doing}): ${details}; check that its process is running. L8 reconnects as soon as the socket answers again`, { cause: error });
      case grpc.status.DEADLINE_EXCEEDED:
        return new ComponentError('unavailable', `${this.what} did not answer ${doing} within ${timeoutMs} ms; it may be overloaded or stuck`, { cause: error });
      case grpc.status.FAILED_PRECONDITION:
      case grpc.status.INVALID_ARGUMENT: {
        const etag = fieldViolations(e.metadata?.get('grpc-status-details-bin')[0] as Buffer | undefined).find((v) => v.field === 'etag');
        if (etag) return new ComponentError('conflict', `${this.what}: ${etag.description || details}; read the key again to get its current ETag and retry`, { cause: error });
        return new ComponentError(e.code === grpc.status.INVALID_ARGUMENT ? 'invalid' : 'internal', `${this.what} refused ${doing}: ${details}`, { cause: error });
      }
      case grpc.status.NOT_FOUND:
        return new ComponentError('not-found', `${this.what}: ${details}`, { cause: error });
      case grpc.status.UNIMPLEMENTED:
        return new ComponentError('invalid', `${this.what} does not implement ${doing}: ${details}`, { cause: error });
      default:
        return new ComponentError('internal', `${this.what} failed ${doing}: ${details}`, { cause: error });
    }
  }

  /** Ping (and the init step if the component came back after a lost connection). */
  async health(ping: Method): Promise<ComponentHealth> {
    if (this.closed) return { status: 'DOWN', reason: `${this.what} is closed` };
    try {
      await this.rawUnary(ping, {}, 'Ping', 1000);
      await this.ensureInitialized();
      return { status: 'UP' };
    } catch (error) {
      return { status: 'DOWN', reason: (error as Error).message };
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}
