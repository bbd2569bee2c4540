// Ids in process memory: increasing within one process lifetime only.
import { ComponentError, type ComponentHealth } from '../errors.ts';
import type { Sequencer } from './contract.ts';

export class MemorySequencer implements Sequencer {
  readonly kind = 'memory';
  private readonly counters = new Map<string, bigint>();

  async init(): Promise<void> {}
  async health(): Promise<ComponentHealth> {
    return { status: 'UP' };
  }
  async close(): Promise<void> {}

  async nextId(key: string): Promise<bigint> {
    if (!key) throw new ComponentError('invalid', 'sequencer key must not be empty');
    const next = (this.counters.get(key) ?? 0n) + 1n;
    this.counters.set(key, next);
    return next;
  }
}
