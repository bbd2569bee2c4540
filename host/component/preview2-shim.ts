// The pieces of @bytecodealliance/preview2-shim that L8 builds its WASI 0.2 host from.
//
// preview2-shim has two implementations. Its Node.js one (what `import
// '@bytecodealliance/preview2-shim'` resolves to in Node) keeps process-wide state and
// does I/O synchronously through a worker thread: stdout/stderr go straight to the
// process's stdout, the environment is `process.env`, preopens are one global list, and
// every file or HTTP call blocks the main thread (Atomics.wait) until the worker answers
// — a slow outbound request would stall every other function. Its portable ("browser")
// implementation is plain JavaScript: streams are driven by handler objects, blocking
// operations return Promises (which jco's JSPI mode turns into suspensions of the guest,
// not of the event loop), and `createCli` / `createFilesystem` build isolated instances
// of the interfaces that hold state. L8 uses the portable one, one set per guest
// instance, and supplies the Node-specific parts itself (host directories in
// node-filesystem.ts, stdout/stderr into the function's logs, an allow-list in front of
// outgoing HTTP). The package's export map only exposes the Node build under Node, so
// the portable modules are loaded by file path from the installed package.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = import.meta.resolve('@bytecodealliance/preview2-shim');
const base = new URL('../browser/', entry);

async function load(name: string): Promise<Record<string, unknown>> {
  const url = new URL(name, base);
  if (!existsSync(fileURLToPath(url))) {
    throw new Error(
      `@bytecodealliance/preview2-shim has no ${name} in ${fileURLToPath(base)}; L8 needs the portable build of preview2-shim 0.26 (reinstall with npm ci)`,
    );
  }
  return (await import(url.href)) as Record<string, unknown>;
}

/** Handler behind an output stream (see preview2-shim's browser io.js). */
export interface OutputHandler {
  write(bytes: Uint8Array): void;
  blockingFlush?(): void;
  flush?(): void;
  checkWrite?(): bigint;
  drop?(): void;
}

/** Handler behind an input stream. `blockingRead` may return a Promise (JSPI awaits it). */
export interface InputHandler {
  blockingRead(len: bigint): Uint8Array | Promise<Uint8Array>;
  read?(len: bigint): Uint8Array;
  drop?(): void;
}

/** A WASI interface as the transpiled glue expects it: functions and resource classes by name. */
export type Interface = Record<string, unknown>;

export interface CliConfig {
  environment: Record<string, string>;
  arguments: string[];
  initialCwd: string;
  stdout: OutputHandler;
  stderr: OutputHandler;
  stdin?: InputHandler;
}

export interface Cli {
  environment: Interface;
  exit: Interface;
  stdin: Interface;
  stdout: Interface;
  stderr: Interface;
  terminalInput: Interface;
  terminalOutput: Interface;
  terminalStdin: Interface;
  terminalStdout: Interface;
  terminalStderr: Interface;
}

export interface FilesystemAdapter {
  getRoot(capability: unknown): unknown;
}

const io = await load('io.js');
const cli = await load('cli.js');
const clocks = await load('clocks.js');
const random = await load('random.js');
const filesystem = await load('filesystem.js');
const http = await load('http.js');
const sockets = await load('sockets.js');

export const shim = {
  io: {
    error: io.error as Interface,
    poll: io.poll as Interface,
    streams: io.streams as Interface,
    inputStreamCreate: io.inputStreamCreate as (handler: InputHandler) => unknown,
    outputStreamCreate: io.outputStreamCreate as (handler: OutputHandler) => unknown,
    pollableCreate: io.pollableCreate as (source?: Promise<unknown>) => unknown,
    ioErrorCreate: io.ioErrorCreate as (message: string) => unknown,
  },
  createCli: cli.createCli as (config: CliConfig) => Cli,
  clocks: { monotonicClock: clocks.monotonicClock as Interface, wallClock: clocks.wallClock as Interface },
  random: { random: random.random as Interface, insecure: random.insecure as Interface },
  filesystem: {
    types: filesystem.types as Interface,
    createFilesystem: filesystem.createFilesystem as (config: { adapter: FilesystemAdapter; preopens: Record<string, unknown> }) => {
      types: Interface;
      preopens: Interface;
    },
  },
  http: {
    types: http.types as Interface & {
      RequestOptions: new () => { setConnectTimeout(ns: bigint | undefined): void; setFirstByteTimeout(ns: bigint | undefined): void; connectTimeout(): bigint | undefined; firstByteTimeout(): bigint | undefined };
    },
    outgoingHandler: http.outgoingHandler as { handle(request: unknown, options: unknown): unknown },
    handleIncomingRequest: http.handleIncomingRequest as (request: Request, handler: (request: unknown, responseOut: unknown) => Promise<void>) => Promise<Response>,
  },
  sockets: {
    instanceNetwork: sockets.instanceNetwork as Interface,
    network: sockets.network as Interface,
    ipNameLookup: sockets.ipNameLookup as Interface,
    tcp: sockets.tcp as Interface,
    tcpCreateSocket: sockets.tcpCreateSocket as Interface,
    udp: sockets.udp as Interface,
    udpCreateSocket: sockets.udpCreateSocket as Interface,
  },
};
