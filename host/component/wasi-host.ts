// The WASI 0.2 imports of one component instance, built from preview2-shim's portable
// interfaces (see preview2-shim.ts) and isolated per instance:
// - environment: the function's config literals only, no arguments, cwd "/";
// - stdout/stderr: split into lines and written to the function's logs, tagged with the
//   request id of the call that printed them (or "init" during instantiation); stdin is
//   empty;
// - filesystem: only the directories the manifest grants, at the guest paths it names;
// - outgoing HTTP: only to the hosts the manifest allows (outgoing-http.ts);
// - sockets: not supported (every call fails with "not-supported");
// - clocks and randomness: the host's, with an insecure seed of the instance's own.
// Interface names carry no version: the transpiled glue asks for "wasi:io/streams", and
// one implementation serves every 0.2.x.
import { randomBytes } from 'node:crypto';
import { OutboundHosts } from '../../functions/outbound-hosts.ts';
import { EMPTY_SANDBOX, type Sandbox } from '../guest-instance.ts';
import { NodeFilesystemAdapter } from './node-filesystem.ts';
import { outgoingHandler } from './outgoing-http.ts';
import { shim, type Interface, type OutputHandler } from './preview2-shim.ts';

/** Longest line kept together; longer output is split into lines of this many bytes. */
const MAX_LINE_BYTES = 16 * 1024;

export interface WasiHostOptions {
  sandbox?: Sandbox;
  /** Receives every complete line a guest prints. */
  output(stream: 'stdout' | 'stderr', line: string): void;
  /** A line about something the host refused, for the function's logs. */
  warn(message: string): void;
  /** Milliseconds left for the current call (Infinity when none). */
  remainingMs(): number;
}

/** Collects bytes into lines. */
class LineBuffer {
  private pending: Uint8Array[] = [];
  private size = 0;
  private readonly emit: (line: string) => void;
  private readonly decoder = new TextDecoder();

  constructor(emit: (line: string) => void) {
    this.emit = emit;
  }

  /**
   * The stream handler preview2-shim calls (with the stream as `this`, so it is made of
   * closures).
   */
  handler(): OutputHandler {
    return {
      checkWrite: () => 1n << 20n,
      write: (bytes) => this.write(bytes),
      blockingFlush: () => {},
      flush: () => {},
    };
  }

  private write(bytes: Uint8Array): void {
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0x0a) {
        this.push(bytes.subarray(start, i));
        this.flushLine();
        start = i + 1;
      }
    }
    if (start < bytes.length) this.push(bytes.subarray(start));
  }

  private push(chunk: Uint8Array): void {
    while (chunk.length > 0) {
      const room = MAX_LINE_BYTES - this.size;
      const part = chunk.subarray(0, room);
      this.pending.push(part.slice());
      this.size += part.length;
      chunk = chunk.subarray(part.length);
      if (this.size >= MAX_LINE_BYTES) this.flushLine();
    }
  }

  private flushLine(): void {
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.size);
    this.pending = [];
    this.size = 0;
    let line = this.decoder.decode(bytes);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    this.emit(line);
  }

  /** Emits a last line that had no newline (at the end of a call). */
  end(): void {
    if (this.size > 0) this.flushLine();
  }
}

export class WasiHost {
  private readonly stdout: LineBuffer;
  private readonly stderr: LineBuffer;
  private readonly interfaces: Record<string, Interface>;

  constructor(options: WasiHostOptions) {
    const sandbox = options.sandbox ?? EMPTY_SANDBOX;
    this.stdout = new LineBuffer((line) => options.output('stdout', line));
    this.stderr = new LineBuffer((line) => options.output('stderr', line));
    // Every get-stdout/get-stderr/get-stdin returns a stream of its own (over the same line
    // buffer), so a guest that drops one, or a reset that disposes one a request left
    // behind, never closes the stream another handle still uses.
    const stdout = this.stdout.handler();
    const stderr = this.stderr.handler();
    const emptyInput = { blockingRead: (): Uint8Array => { throw { tag: 'closed' }; } };
    const stdio = {
      stdout: { getStdout: () => shim.io.outputStreamCreate(stdout) },
      stderr: { getStderr: () => shim.io.outputStreamCreate(stderr) },
      stdin: { getStdin: () => shim.io.inputStreamCreate(emptyInput) },
    };
    const cli = shim.createCli({
      environment: { ...sandbox.env },
      arguments: [],
      initialCwd: '/',
      stdout,
      stderr,
    });
    const preopens: Record<string, unknown> = {};
    for (const grant of sandbox.files) preopens[grant.guest] = { host: grant.host, readOnly: grant.readOnly };
    const filesystem = shim.filesystem.createFilesystem({ adapter: new NodeFilesystemAdapter(), preopens });
    const seed = randomBytes(16);
    const insecureSeed = [seed.readBigUInt64LE(0), seed.readBigUInt64LE(8)];
    this.interfaces = {
      'wasi:cli/environment': cli.environment,
      'wasi:cli/exit': cli.exit,
      'wasi:cli/stdin': stdio.stdin,
      'wasi:cli/stdout': stdio.stdout,
      'wasi:cli/stderr': stdio.stderr,
      'wasi:cli/terminal-input': cli.terminalInput,
      'wasi:cli/terminal-output': cli.terminalOutput,
      'wasi:cli/terminal-stdin': cli.terminalStdin,
      'wasi:cli/terminal-stdout': cli.terminalStdout,
      'wasi:cli/terminal-stderr': cli.terminalStderr,
      'wasi:clocks/monotonic-clock': shim.clocks.monotonicClock,
      'wasi:clocks/wall-clock': shim.clocks.wallClock,
      'wasi:filesystem/types': filesystem.types,
      'wasi:filesystem/preopens': filesystem.preopens,
      'wasi:http/types': shim.http.types,
      'wasi:http/outgoing-handler': outgoingHandler({
        hosts: new OutboundHosts(sandbox.outboundHosts),
        remainingMs: options.remainingMs,
        denied: options.warn,
      }),
      'wasi:io/error': shim.io.error,
      'wasi:io/poll': shim.io.poll,
      'wasi:io/streams': shim.io.streams,
      'wasi:random/random': shim.random.random,
      'wasi:random/insecure': shim.random.insecure,
      'wasi:random/insecure-seed': { insecureSeed: () => insecureSeed },
      'wasi:sockets/network': shim.sockets.network,
      'wasi:sockets/instance-network': shim.sockets.instanceNetwork,
      'wasi:sockets/ip-name-lookup': shim.sockets.ipNameLookup,
      'wasi:sockets/tcp': shim.sockets.tcp,
      'wasi:sockets/tcp-create-socket': shim.sockets.tcpCreateSocket,
      'wasi:sockets/udp': shim.sockets.udp,
      'wasi:sockets/udp-create-socket': shim.sockets.udpCreateSocket,
    };
  }

  /** The import object entries, keyed by interface name without version. */
  imports(): Record<string, Interface> {
    return this.interfaces;
  }

  /** Ends a call: a last line without newline is still logged, under that call. */
  endCall(): void {
    this.stdout.end();
    this.stderr.end();
  }
}
