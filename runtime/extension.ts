// How a feature plugs into the runtime without editing its core: the runtime API,
// the Layotto-compatible listener, the Kubernetes agent and others are extensions, listed
// in runtime/extensions.ts. Each can add `l8 serve` flags, `l8` commands and a top-level
// section of the runtime config, and is started once the runtime is serving.
import type { Runtime } from './runtime.ts';

export interface ExtensionFlag {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** One line for `l8 --help`. */
  help: string;
}

export interface ExtensionCommand {
  /** Usage line for `l8 --help`, e.g. "l8 build <file> [--out FILE]". */
  usage: string;
  /** Runs the command with the arguments after its name; returns the exit code. */
  run(args: string[]): Promise<number>;
}

export interface StartedExtension {
  stop(): Promise<void>;
  /** Addresses it listens on, e.g. { grpc: "127.0.0.1:34904" }; logged with "L8 runtime is serving". */
  urls?: Record<string, string>;
}

export interface ExtensionContext {
  /** Values of this extension's `l8 serve` flags (undefined when not given). */
  flags: Record<string, unknown>;
  /** Its section of the runtime config file (undefined when absent), env references expanded. */
  config: unknown;
}

export interface RuntimeExtension {
  name: string;
  /** Top-level key of the runtime config file this extension reads, e.g. "runtimeApi". */
  configKey?: string;
  flags?: Record<string, ExtensionFlag>;
  commands?: Record<string, ExtensionCommand>;
  /** Starts it; null when it is not enabled by its flags or config. */
  start?(runtime: Runtime, context: ExtensionContext): Promise<StartedExtension | null>;
}
