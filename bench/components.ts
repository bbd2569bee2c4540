// `npm run bench:components`: the component backends side by side in one run — state
// get/set on memory, file and Redis; publish→deliver on memory, Redis Streams and Kafka —
// with ratios against memory. Machines are noisy: only numbers from the same run compare.
//
//   npm run services:up                       Redis and Kafka (scripts/services)
//   npm run bench:components
//   npm run bench:components -- --duration 3 --messages 50000
//   npm run bench:components -- --write       also record the tables in docs/benchmarks.md
//
// Redis is measured twice: the services' server (append-only file fsynced on every write,
// so no acknowledged write is lost) and a private redis-server without persistence.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { PubSub } from '../components/pubsub/contract.ts';
import { KafkaPubSub } from '../components/pubsub/kafka.ts';
import { MemoryPubSub } from '../components/pubsub/memory.ts';
import { RedisPubSub } from '../components/pubsub/redis.ts';
import { redisSettings } from '../components/redis.ts';
import { deleteKeys, startPrivateRedis } from '../components/redis.test-support.ts';
import type { StateStore } from '../components/state/contract.ts';
import { FileStateStore } from '../components/state/file.ts';
import { MemoryStateStore } from '../components/state/memory.ts';
import { RedisStateStore } from '../components/state/redis.ts';
import { KAFKA_VERSION } from '../scripts/services/kafka.ts';
import { readServicesEnv } from '../scripts/services/paths.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    messages: { type: 'string', default: '20000' },
    'publish-concurrency': { type: 'string', default: '64' },
    'latency-rounds': { type: 'string', default: '300' },
    write: { type: 'boolean', default: false },
  },
});
const DURATION_MS = Number(args.duration) * 1000;
const CONCURRENCY = Number(args.concurrency);
const MESSAGES = Number(args.messages);
const PUBLISH_CONCURRENCY = Number(args['publish-concurrency']);
const LATENCY_ROUNDS = Number(args['latency-rounds']);
const ROOT = resolve(import.meta.dirname, '..');

interface Result {
  opsPerSec: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function summarise(latencies: number[], count: number, elapsedMs: number): Result {
  latencies.sort((a, b) => a - b);
  return { opsPerSec: (count / elapsedMs) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Runs `op` from `concurrency` loops for `durationMs` (after a short warm-up). */
async function measure(concurrency: number, durationMs: number, op: (i: number) => Promise<unknown>): Promise<Result> {
  let counter = 0;
  const warmUntil = performance.now() + Math.min(300, durationMs / 4);
  const warm = async () => {
    while (performance.now() < warmUntil) await op(counter++);
  };
  await Promise.all(Array.from({ length: concurrency }, warm));
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      await op(counter++);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return summarise(latencies, latencies.length, performance.now() - started);
}

interface Row {
  backend: string;
  operation: string;
  result: Result;
}

async function benchState(backend: string, store: StateStore, rows: Row[]): Promise<void> {
  await store.init();
  try {
    const value = new Uint8Array(100).fill(7);
    const keys = Array.from({ length: 1000 }, (_, i) => `bench-${i}`);
    await store.bulkSet(keys.map((key) => ({ key, value })));
    for (const concurrency of [1, CONCURRENCY]) {
      rows.push({ backend, operation: `get, ${concurrency} in flight`, result: await measure(concurrency, DURATION_MS, (i) => store.get(keys[i % keys.length]!)) });
      rows.push({ backend, operation: `set, ${concurrency} in flight`, result: await measure(concurrency, DURATION_MS, (i) => store.set(keys[i % keys.length]!, value)) });
    }
  } finally {
    await store.close();
  }
}

/** Publishes MESSAGES with PUBLISH_CONCURRENCY in flight; times publish → handler. */
async function benchThroughput(broker: PubSub, topic: string): Promise<Result> {
  const latencies: number[] = [];
  let delivered = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const sub = await broker.subscribe(topic, 'bench-throughput', async (m) => {
    latencies.push(performance.now() - new DataView(m.data.buffer, m.data.byteOffset, 8).getFloat64(0));
    if (++delivered === MESSAGES) done();
  });
  try {
    let next = 0;
    const started = performance.now();
    const publisher = async () => {
      while (next < MESSAGES) {
        next++;
        const data = new Uint8Array(100);
        new DataView(data.buffer).setFloat64(0, performance.now());
        await broker.publish(topic, data);
      }
    };
    await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, publisher));
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${delivered} of ${MESSAGES} messages delivered within 120 s`)), 120_000).unref());
    await Promise.race([all, timeout]);
    return summarise(latencies, delivered, performance.now() - started);
  } finally {
    await sub.close();
  }
}

/** One message at a time: publish, wait for the handler, repeat. */
async function benchLatency(broker: PubSub, topic: string): Promise<Result> {
  let arrived: (() => void) | null = null;
  const sub = await broker.subscribe(topic, 'bench-latency', async () => arrived?.());
  try {
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < LATENCY_ROUNDS + 20; i++) {
      const t = performance.now();
      const got = new Promise<void>((r) => (arrived = r));
      await broker.publish(topic, new Uint8Array(100));
      await got;
      if (i >= 20) latencies.push(performance.now() - t); // the first rounds warm up
    }
    return summarise(latencies, latencies.length, performance.now() - started);
  } finally {
    await sub.close();
  }
}

async function benchPubsub(backend: string, broker: PubSub, rows: Row[]): Promise<void> {
  await broker.init();
  try {
    const run = `bench-${Date.now().toString(36)}`;
    rows.push({ backend, operation: `publish→deliver, ${PUBLISH_CONCURRENCY} publishes in flight`, result: await benchThroughput(broker, `${run}-throughput`) });
    rows.push({ backend, operation: 'publish→deliver, one at a time', result: await benchLatency(broker, `${run}-latency`) });
  } finally {
    await broker.close();
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const ms = (n: number) => (n < 1 ? fmt(n, 3) : n < 10 ? fmt(n, 2) : fmt(n, 1));

function table(rows: Row[]): string {
  const memory = new Map(rows.filter((r) => r.backend === 'memory').map((r) => [r.operation, r.result.opsPerSec]));
  const lines = ['| operation | backend | ops/s | vs memory | p50 ms | p99 ms |', '|---|---|---:|---:|---:|---:|'];
  const operations = [...new Set(rows.map((r) => r.operation))];
  for (const operation of operations) {
    for (const row of rows.filter((r) => r.operation === operation)) {
      const base = memory.get(operation);
      const ratio = base ? `${fmt(row.result.opsPerSec / base, 3)}×` : '—';
      lines.push(`| ${operation} | ${row.backend} | ${fmt(row.result.opsPerSec)} | ${ratio} | ${ms(row.result.p50)} | ${ms(row.result.p99)} |`);
    }
  }
  return lines.join('\n');
}

async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  const info = await client.info('server');
  client.disconnect();
  return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
}

async function main(): Promise<void> {
  const services = readServicesEnv();
  const redisUrl = process.env.L8_REDIS_URL ?? services.redis?.url;
  const kafkaBrokers = process.env.L8_KAFKA_BROKERS?.split(',') ?? services.kafka?.brokers;
  if (!redisUrl || !kafkaBrokers) {
    throw new Error('Redis and Kafka are needed: start them with `npm run services:up` (or set L8_REDIS_URL and L8_KAFKA_BROKERS)');
  }
  const prefix = `l8-bench-${Date.now().toString(36)}:`;
  const dir = mkdtempSync(join(tmpdir(), 'l8-bench-components-'));
  const plain = await startPrivateRedis();
  const version = await redisVersion(redisUrl);
  const stateRows: Row[] = [];
  const pubsubRows: Row[] = [];
  const redis = (url: string) => redisSettings({ url, keyPrefix: prefix }, 'bench', prefix);
  try {
    console.error('state: memory, file, redis ...');
    await benchState('memory', new MemoryStateStore(), stateRows);
    await benchState('file (SQLite, sync normal)', new FileStateStore({ path: join(dir, 'state.sqlite') }), stateRows);
    await benchState('redis (AOF fsync always)', new RedisStateStore(redis(redisUrl)), stateRows);
    await benchState('redis (no persistence)', new RedisStateStore(redis(plain.url)), stateRows);
    console.error('pubsub: memory, redis streams, kafka ...');
    await benchPubsub('memory', new MemoryPubSub({ maxPending: MESSAGES * 2 }), pubsubRows);
    await benchPubsub('redis streams (AOF fsync always)', new RedisPubSub(redis(redisUrl), { maxLen: MESSAGES * 2 }), pubsubRows);
    await benchPubsub('redis streams (no persistence)', new RedisPubSub(redis(plain.url), { maxLen: MESSAGES * 2 }), pubsubRows);
    await benchPubsub('kafka (1 partition, acks all)', new KafkaPubSub({ brokers: kafkaBrokers, logLevel: 'error' }), pubsubRows);
  } finally {
    await deleteKeys(redisUrl, prefix).catch(() => {});
    await plain.dispose();
    rmSync(dir, { recursive: true, force: true });
  }

  const cpu = cpus();
  // Other work on the machine moves these numbers; the load says how busy it was.
  const load = loadavg().map((n) => n.toFixed(1)).join(' / ');
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, Redis ${version} (127.0.0.1), Kafka ${KAFKA_VERSION} single node (127.0.0.1); load average ${load} (1/5/15 min)`;
  const stateTable = table(stateRows);
  const pubsubTable = table(pubsubRows);
  console.log(`\nState (100-byte values, 1000 keys, ${args.duration} s per row)\n\n${stateTable}\n`);
  console.log(`Pub/sub (100-byte messages; ${MESSAGES} messages for throughput, ${LATENCY_ROUNDS} round trips for latency)\n\n${pubsubTable}\n`);
  console.log(machine);

  if (args.write) {
    const date = new Date().toISOString().slice(0, 10);
    const section = [
      '## Components',
      '',
      `Measured ${date} with \`npm run bench:components\` on ${machine}. All backends in one run; ratios are ops/s against the memory backend in the same row. Latency is per operation as the caller sees it, queueing included.`,
      '',
      `### State (100-byte values, 1000 keys, ${args.duration} s per row)`,
      '',
      stateTable,
      '',
      `### Pub/sub: publish → handler (100-byte messages; ${MESSAGES} messages for throughput, ${LATENCY_ROUNDS} round trips for latency)`,
      '',
      pubsubTable,
      '',
      'The services Redis fsyncs its append-only file before every reply, so no acknowledged write is lost; the private Redis keeps nothing on disk. Kafka writes go to one broker with `acks: all`.',
      '',
    ].join('\n');
    const file = join(ROOT, 'docs/benchmarks.md');
    let doc: string;
    try {
      doc = readFileSync(file, 'utf8');
    } catch {
      doc = '# Benchmarks\n';
    }
    // Replace only this section: other benches write their own.
    const start = doc.search(/^## Components\s*$/m);
    if (start === -1) {
      doc = `${doc.trimEnd()}\n\n${section}`;
    } else {
      const rest = doc.slice(start + 1);
      const next = rest.search(/^## /m);
      const end = next === -1 ? doc.length : start + 1 + next;
      doc = `${doc.slice(0, start)}${section}${next === -1 ? '' : `\n${doc.slice(end)}`}`;
    }
    writeFileSync(file, `${doc.trimEnd()}\n`);
    console.log(`recorded in ${file}`);
  }
}

await main();
