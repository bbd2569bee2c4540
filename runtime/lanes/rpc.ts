// Requests and events between the main thread and a worker lane over a MessagePort.
// Errors cross as { code, message } so a ComponentError or L8Error keeps its code.
import type { MessagePort, Worker } from 'node:worker_threads';

type Port = MessagePort | Worker;

interface Request {
  t: 'req';
  id: number;
  method: string;
  params: unknown;
}
interface Reply {
  t: 'res';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { name: string; code?: string; message: string };
}
interface Event {
  t: 'evt';
  type: string;
  data: unknown;
}
type Message = Request | Reply | Event;

export class RemoteError extends Error {
  readonly code: string | undefined;
  constructor(name: string, code: string | undefined, message: string) {
    super(message);
    this.name = name;
    this.code = code;
  }
}

/** The one method both MessagePort and Worker have that we use (their types differ). */
interface Sender {
  postMessage(value: unknown): void;
}

export class Rpc {
  private readonly port: Sender;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly handlers = new Map<string, (params: unknown) => unknown>();
  private readonly listeners = new Map<string, (data: unknown) => void>();

  constructor(port: Port) {
    this.port = port as unknown as Sender;
    port.on('message', (message: Message) => this.receive(message));
  }

  /** Answers requests named `method`. */
  handle(method: string, handler: (params: any) => unknown): void {
    this.handlers.set(method, handler);
  }

  /** Receives events named `type`. */
  on(type: string, listener: (data: any) => void): void {
    this.listeners.set(type, listener);
  }

  call<T>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ t: 'req', id, method, params } satisfies Request);
    });
  }

  emit(type: string, data: unknown): void {
    this.port.postMessage({ t: 'evt', type, data } satisfies Event);
  }

  /** Fails every call still waiting (the other side went away). */
  failAll(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  private receive(message: Message): void {
    if (message.t === 'res') {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(new RemoteError(message.error!.name, message.error!.code, message.error!.message));
      return;
    }
    if (message.t === 'evt') {
      this.listeners.get(message.type)?.(message.data);
      return;
    }
    const handler = this.handlers.get(message.method);
    const reply = (r: Omit<Reply, 't' | 'id'>) => this.port.postMessage({ t: 'res', id: message.id, ...r } satisfies Reply);
    if (!handler) {
      reply({ ok: false, error: { name: 'Error', message: `no handler for "${message.method}"` } });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.params))
      .then(
        (value) => reply({ ok: true, value }),
        (error: Error & { code?: string }) => reply({ ok: false, error: { name: error?.name ?? 'Error', code: error?.code, message: error?.message ?? String(error) } }),
      );
  }
}
