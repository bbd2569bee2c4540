// Types of the L8 JavaScript SDK (l8.js), for editors and TypeScript functions:
// `import { http, state, Response } from 'l8'` (see README.md beside this file).

export type ErrorCode = 'denied' | 'not-found' | 'unavailable' | 'invalid' | 'conflict' | 'internal';
export type Fields = Array<[string, string]>;
export type Bytes = string | Uint8Array | ArrayBuffer | ArrayBufferView;

/** A host call failed; `code` says why (see abi/README.md "Error codes"). */
export declare class HostError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string);
  /** `<code>: <message>` with the status of its code, content-type text/plain. */
  toResponse(): Response;
}

export declare const state: {
  get(store: string, key: string): Uint8Array | null;
  getText(store: string, key: string): string | null;
  set(store: string, key: string, value: Bytes): void;
  delete(store: string, key: string): void;
};

export declare const pubsub: {
  /** Returns the message id. */
  publish(broker: string, topic: string, data: Bytes, metadata?: Fields | Record<string, string>): string;
};

export declare const config: {
  get(key: string): string | null;
};

export interface InvokeRequest {
  method?: string;
  path?: string;
  query?: string;
  headers?: Fields | Record<string, string>;
  body?: Bytes;
}

export declare const invoke: {
  call(target: string, request?: InvokeRequest): Response;
};

export type UnlockStatus = 'success' | 'lock-does-not-exist' | 'lock-belongs-to-others';

export declare const lock: {
  tryLock(store: string, resource: string, owner: string, expireSeconds: number): boolean;
  unlock(store: string, resource: string, owner: string): UnlockStatus;
  keepAlive(store: string, resource: string, owner: string, expireSeconds: number): boolean;
};

export declare const sequencer: {
  nextId(store: string, key: string): bigint;
};

export declare const log: {
  trace(message: unknown): void;
  debug(message: unknown): void;
  info(message: unknown): void;
  warn(message: unknown): void;
  error(message: unknown): void;
};

export declare class Request {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Fields;
  readonly body: Uint8Array;
  header(name: string): string | null;
  requestId(): string | null;
  param(name: string): string | null;
  queryParam(name: string): string | null;
  text(): string;
  json(): unknown;
}

export declare class Response {
  status: number;
  body: Uint8Array;
  headers: Fields;
  constructor(status?: number, body?: Bytes, headers?: Fields | Record<string, string>);
  static text(status: number, text: string, contentType?: string): Response;
  static json(status: number, value: unknown): Response;
  header(name: string): string | null;
  text(): string;
  withHeader(name: string, value: string | number): Response;
}

export interface Message {
  id: string;
  broker: string;
  topic: string;
  data: Uint8Array;
  metadata: Fields;
  text(): string;
  meta(name: string): string | null;
}

/** The `httpHandler` export. */
export declare function http(handler: (request: Request) => Response | Promise<Response>): { handle(request: unknown): unknown };

/** The `subscriber` export: throw (or reject) to have the message retried, then dead-lettered. */
export declare function subscriber(handler: (message: Message) => void | Promise<void>): { onMessage(message: unknown): unknown };
