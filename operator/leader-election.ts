// Leader election on a coordination.k8s.io Lease, with client-go's rules, so that of
// several operator replicas exactly one acts:
// - A candidate takes the Lease only when it is free (no holder) or when its record has
//   not changed for leaseDuration, timed on the candidate's own clock from the moment it
//   first saw that record — so clock skew between machines does not matter.
// - Writes carry the resourceVersion read, so two candidates racing for a free Lease
//   cannot both win: one gets 409 Conflict.
// - The leader renews every retryPeriod. If it cannot renew for renewDeadline (shorter
//   than leaseDuration), or sees another holder, it stops acting before anyone else may
//   take over.
// - On a clean stop the leader empties the Lease, so a successor starts at once.
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, isConflict, isNotFound } from './kube/client.ts';

export interface LeaderElectionOptions {
  kc: KubeConfig;
  namespace: string;
  /** Name of the Lease object. */
  name: string;
  /** Unique per process (pod name plus a random suffix). */
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

export class LeaderElector {
  private readonly options: Required<Omit<LeaderElectionOptions, 'kc'>>;
  private readonly api: CoordinationV1Api;
  private leader = false;
  private stopped = false;
  private lastRenew = 0;
  private observedVersion: string | undefined;
  private observedAt = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(options: LeaderElectionOptions) {
    const leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (renewDeadlineMs >= leaseDurationSeconds * 1000) {
      throw new Error(`the renew deadline (${renewDeadlineMs} ms) must be shorter than the lease duration (${leaseDurationSeconds} s), or two leaders could overlap`);
    }
    if (retryPeriodMs >= renewDeadlineMs) throw new Error(`the retry period (${retryPeriodMs} ms) must be shorter than the renew deadline (${renewDeadlineMs} ms)`);
    this.options = { ...options, leaseDurationSeconds, renewDeadlineMs, retryPeriodMs };
    this.api = options.kc.makeApiClient(CoordinationV1Api);
  }

  get identity(): string {
    return this.options.identity;
  }

  isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.loop = this.run();
    // Steps down on time even when an API call hangs.
    this.watchdog = setInterval(() => this.checkDeadline(), Math.max(100, this.options.retryPeriodMs / 2));
  }

  private async run(): Promise<void> {
    const { logger, namespace, name } = this.options;
    logger.info({ lease: `${namespace}/${name}`, identity: this.identity }, `waiting to lead (Lease ${namespace}/${name})`);
    while (!this.stopped) {
      let renewed = false;
      try {
        renewed = await this.tryAcquireOrRenew();
      } catch (error) {
        logger.warn({ lease: `${namespace}/${name}` }, `cannot reach Lease ${namespace}/${name}: ${describeError(error)}`);
      }
      if (this.stopped) break;
      if (renewed) {
        this.lastRenew = performance.now();
        if (!this.leader) {
          this.leader = true;
          logger.info({ lease: `${namespace}/${name}`, identity: this.identity }, 'became the leader');
          this.options.onStartedLeading();
        }
      }
      this.checkDeadline();
      // Candidates add jitter so that they do not all ask at the same moment.
      const wait = this.leader ? this.options.retryPeriodMs : this.options.retryPeriodMs * (1 + Math.random() * 0.2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private checkDeadline(): void {
    if (this.leader && performance.now() - this.lastRenew > this.options.renewDeadlineMs) {
      this.stepDown(`could not renew the Lease for ${this.options.renewDeadlineMs} ms`);
    }
  }

  private stepDown(why: string): void {
    if (!this.leader) return;
    this.leader = false;
    this.options.logger.warn({ lease: `${this.options.namespace}/${this.options.name}` }, `stopped leading: ${why}`);
    this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, leaseDurationSeconds } = this.options;
    const now = microTime();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        const created = await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: this.identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        this.observe(created);
        return true;
      } catch (createError) {
        if (isConflict(createError)) return false;
        throw createError;
      }
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== this.identity) {
      if (this.leader) this.stepDown(`the Lease is now held by ${holder}`);
      const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (performance.now() < this.observedAt + duration) return false;
      this.options.logger.info({ lease: `${namespace}/${name}`, previous: holder }, `the Lease held by ${holder} expired; taking it`);
    }
    const mine = holder === this.identity;
    try {
      const updated = await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          metadata: { ...lease.metadata, name, namespace },
          spec: {
            holderIdentity: this.identity,
            leaseDurationSeconds,
            acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
            renewTime: now,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
          },
        },
      });
      this.observe(updated);
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  private observe(lease: V1Lease): void {
    const version = lease.metadata?.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = performance.now();
    }
  }

  /** Stops campaigning; a leader stops acting first, then frees the Lease for a successor. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    this.wake?.();
    await this.loop;
    if (!this.leader) return;
    this.stepDown('shutting down');
    const { namespace, name } = this.options;
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { metadata: lease.metadata, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() } },
      });
      this.options.logger.info({ lease: `${namespace}/${name}` }, 'released the Lease');
    } catch (error) {
      this.options.logger.warn({ lease: `${namespace}/${name}` }, `could not release the Lease (a successor waits for it to expire): ${describeError(error)}`);
    }
  }
}

/**
 * Lease times are MicroTime: the API server insists on six fractional digits. client-node
 * would send a Date as toISOString() (three) and get 400 back; a string passes through
 * its serializer untouched.
 */
function microTime(date = new Date()): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}
