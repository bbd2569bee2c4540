// Function output (log import, stdout, stderr) as structured lines tagged with the
// function and the request id: written to the runtime's log, and kept in a small ring
// per function so `l8 logs <name>` can show and follow it.
import type { Logger } from 'pino';
import type { LogLevel } from '../host/abi.ts';
import type { OutputSource } from '../host/call-context.ts';

export interface LogLine {
  /** Milliseconds since the epoch (formatted when the line is shown). */
  time: number;
  function: string;
  requestId: string;
  level: LogLevel;
  source: OutputSource | 'runtime';
  message: string;
}

const RING_SIZE = 1000;

/** The last RING_SIZE lines of one function: a circular buffer, O(1) per line. */
class Ring {
  private readonly lines: LogLine[] = [];
  private next = 0;

  push(line: LogLine): void {
    if (this.lines.length < RING_SIZE) this.lines.push(line);
    else this.lines[this.next] = line;
    this.next = (this.next + 1) % RING_SIZE;
  }

  last(count: number): LogLine[] {
    const ordered = this.lines.length < RING_SIZE ? this.lines : [...this.lines.slice(this.next), ...this.lines.slice(0, this.next)];
    return ordered.slice(Math.max(0, ordered.length - count));
  }
}

export class FunctionLogs {
  private readonly rings = new Map<string, Ring>();
  private readonly followers = new Map<string, Set<(line: LogLine) => void>>();
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  write(line: LogLine): void {
    let ring = this.rings.get(line.function);
    if (!ring) this.rings.set(line.function, (ring = new Ring()));
    ring.push(line);
    if (this.logger.isLevelEnabled(line.level)) {
      this.logger[line.level]({ fn: line.function, requestId: line.requestId, source: line.source }, line.message);
    }
    const followers = this.followers.get(line.function);
    if (followers) for (const follower of followers) follower(line);
  }

  tail(fn: string, count: number): LogLine[] {
    return this.rings.get(fn)?.last(count) ?? [];
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
