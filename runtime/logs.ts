// Function output (log import, stdout, stderr) as structured lines tagged with the
// function and the request id: written to the runtime's log, and kept in a small ring
// per function so `l8 logs <name>` can show and follow it.
import type { Logger } from 'pino';
import type { LogLevel } from '../host/abi.ts';
import type { OutputSource } from '../host/call-context.ts';

export interface LogLine {
  time: string;
  function: string;
  requestId: string;
  level: LogLevel;
  source: OutputSource | 'runtime';
  message: string;
}

const RING_SIZE = 1000;

export class FunctionLogs {
  private readonly rings = new Map<string, LogLine[]>();
  private readonly followers = new Map<string, Set<(line: LogLine) => void>>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  write(line: LogLine): void {
    let ring = this.rings.get(line.function);
    if (!ring) this.rings.set(line.function, (ring = []));
    ring.push(line);
    if (ring.length > RING_SIZE) ring.splice(0, ring.length - RING_SIZE);
    this.logger[line.level === 'warn' ? 'warn' : line.level === 'error' ? 'error' : line.level === 'info' ? 'info' : line.level === 'debug' ? 'debug' : 'trace'](
      { fn: line.function, requestId: line.requestId, source: line.source },
      line.message,
    );
    for (const follower of this.followers.get(line.function) ?? []) follower(line);
  }

  tail(fn: string, count: number): LogLine[] {
    const ring = this.rings.get(fn) ?? [];
    return ring.slice(Math.max(0, ring.length - count));
  }

  follow(fn: string, listener: (line: LogLine) => void): () => void {
    let set = this.followers.get(fn);
    if (!set) this.followers.set(fn, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  forget(fn: string): void {
    this.rings.delete(fn);
  }
}
