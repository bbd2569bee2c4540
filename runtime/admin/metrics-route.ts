// GET /metrics on the admin listener, in Prometheus text format. Not behind the admin
// token (scrapers rarely carry one); the admin listener is on loopback unless configured.
import type { FastifyInstance } from 'fastify';

export async function metricsRoute(app: FastifyInstance, options: { metrics: () => Promise<{ text: string; contentType: string }> }): Promise<void> {
  app.get('/metrics', async (_request, reply) => {
    const { text, contentType } = await options.metrics();
    return reply.header('content-type', contentType).send(text);
  });
}
