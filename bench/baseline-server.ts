// The baseline: a bare Fastify server doing what the benchmark functions do, in plain
// JavaScript, on the same number of threads as the runtime under test. The ratio
// runtime/baseline is what bench/run.ts reports.
import Fastify, { type FastifyListenOptions } from 'fastify';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';

const port = Number(process.env.PORT ?? 9100);
const threads = Number(process.env.THREADS ?? 0);

function serve(): void {
  const app = Fastify({ logger: false });
  const state = new Map<string, string>();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 << 20 }, (_req, body, done) => done(null, body));
  app.get('/hello', async () => 'Hello from Fastify!');
  app.post('/counter/:name', async (req) => {
    const key = `counter/${(req.params as { name: string }).name}`;
    const next = Number(state.get(key) ?? 0) + 1;
    state.set(key, String(next));
    return String(next);
  });
  app.post('/conf/echo', async (req, reply) => reply.header('content-type', 'application/octet-stream').send(req.body));
  app.get('/chain/:n', async () => 'end');
  // Fastify passes listen options through to net.Server#listen, which knows reusePort.
  void app.listen({ port, host: '127.0.0.1', reusePort: threads > 0 } as FastifyListenOptions).then(() => {
    if (isMainThread) console.log(JSON.stringify({ msg: 'baseline is serving', port }));
    else parentPort!.postMessage('ready');
  });
}

if (isMainThread && threads > 0) {
  // N threads sharing the port with SO_REUSEPORT, like the runtime's workers.
  let ready = 0;
  for (let i = 0; i < threads; i++) {
    new Worker(new URL(import.meta.url)).on('message', () => {
      if (++ready === threads) console.log(JSON.stringify({ msg: 'baseline is serving', port }));
    });
  }
} else {
  serve();
}
