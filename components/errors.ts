// What a backend tells its caller when an operation fails. The codes are the ABI's
// error codes, so a failure reaches a guest (or a gRPC client) without translation.

export type ComponentErrorCode = 'not-found' | 'unavailable' | 'invalid' | 'conflict' | 'internal';

export class ComponentError extends Error {
  readonly code: ComponentErrorCode;
  /** Name of the component ("state/default"), filled in by the runtime's component set. */
  component: string | undefined;

  constructor(code: ComponentErrorCode, message: string, options?: { cause?: unknown; component?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ComponentError';
    this.code = code;
    this.component = options?.component;
  }
}

export interface ComponentHealth {
  status: 'UP' | 'DOWN';
  /** Why it is down, and what to do. */
  reason?: string;
}

/** What every component offers besides its building-block operations. */
export interface Component {
  /** Backend kind, e.g. "memory", "file", "redis". */
  readonly kind: string;
  /** Connects and checks the backend; throws ComponentError('unavailable') naming what failed. */
  init(): Promise<void>;
  health(): Promise<ComponentHealth>;
  close(): Promise<void>;
}
