// Instances of one function version. Bounded: at most `maxInstances` exist at once,
// at most `maxQueue` callers wait for one, and waiting ends at the caller's deadline.
// An instance that trapped, timed out or outgrew its snapshot is discarded, never reused.
import { atDeadline, type DeadlineHandle } from './deadlines.ts';
import { L8Error } from './errors.ts';
import type { GuestInstance } from './guest-instance.ts';

export interface PoolLimits {
  maxInstances: number;
  maxQueue: number;
  /** Idle instances kept warm; more are dropped to bound memory. */
  maxIdle: number;
}

interface Waiter {
  resolve: (instance: GuestInstance) => void;
  reject: (error: Error) => void;
  deadline: DeadlineHandle;
}

export class InstancePool {
  private readonly idle: GuestInstance[] = [];
  private readonly waiters: Waiter[] = [];
  private live = 0;
  private closed = false;
  /** Instances created over the pool's lifetime. */
  created = 0;
  /** Instances thrown away (trap, timeout, grown memory). */
  discarded = 0;
  private readonly create: () => GuestInstance | Promise<GuestInstance>;
  private readonly limits: PoolLimits;
  private readonly describe: string;

  constructor(create: () => GuestInstance | Promise<GuestInstance>, limits: PoolLimits, describe: string) {
    this.create = create;
    this.limits = limits;
    this.describe = describe;
  }

  get stats(): { live: number; idle: number; busy: number; waiting: number } {
    return { live: this.live, idle: this.idle.length, busy: this.live - this.idle.length, waiting: this.waiters.length };
  }

  /** An instance for one call, waiting until `deadline` (performance.now() clock) at most. */
  async acquire(deadline: number): Promise<GuestInstance> {
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.live < this.limits.maxInstances) {
      this.live++;
      try {
        const instance = await this.create();
        this.created++;
        return instance;
      } catch (error) {
        this.live--;
        throw error;
      }
    }
    if (this.waiters.length >= this.limits.maxQueue) {
      throw new L8Error(
        'overloaded',
        `${this.describe} is at its concurrency limit (${this.limits.maxInstances} running, ${this.limits.maxQueue} waiting); retry later or raise limits.maxConcurrency`,
        { retryAfter: 1 },
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        deadline: atDeadline(deadline, () => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new L8Error('overloaded', `${this.describe} had no free instance before the request's deadline; retry later or raise limits.maxConcurrency`, { retryAfter: 1 }));
        }),
      };
      this.waiters.push(waiter);
    });
  }

  /** Returns an instance after a call. `healthy` false (or a failed reset) discards it. */
  release(instance: GuestInstance, healthy: boolean): void {
    if (!healthy || this.closed || !instance.reset()) {
      this.discard();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.deadline.cancel();
      waiter.resolve(instance);
      return;
    }
    if (this.idle.length < this.limits.maxIdle) {
      this.idle.push(instance);
    } else {
      this.live--;
    }
  }

  private discard(): void {
    this.live--;
    this.discarded++;
    // A waiter gets a fresh instance in place of the discarded one.
    const waiter = this.waiters.shift();
    if (!waiter) return;
    waiter.deadline.cancel();
    this.live++;
    Promise.resolve()
      .then(() => this.create())
      .then(
        (instance) => {
          this.created++;
          waiter.resolve(instance);
        },
        (error: Error) => {
          this.live--;
          waiter.reject(error);
        },
      );
  }

  /**
   * Retires the pool when its version is replaced: idle instances are dropped and
   * instances coming back are discarded, but callers that already hold or wait for an
   * instance of this version are still served by it (they started on it).
   */
  close(): void {
    this.closed = true;
    this.live -= this.idle.length;
    this.idle.length = 0;
  }
}
