// The demo's stock service (examples/README.md).
// - PUT /stock/:name with a non-negative decimal integer as body: stores it in state
//   `default` under `stock/<name>`, publishes `<name>=<count>` to `stock-changed`, and
//   answers the count with the message id in `x-message-id`.
// - GET /stock/:name: the stored count, or 404.
import { http, pubsub, Response, state } from 'l8';

const STORE = 'default';
const BROKER = 'default';
const TOPIC = 'stock-changed';

export const httpHandler = http((req) => {
  const name = req.param('name');
  if (name === null) return new Response(400, "missing route parameter 'name'");
  if (req.method === 'PUT') {
    const count = req.text();
    if (!/^[0-9]+$/.test(count)) return new Response(400, `stock count must be a non-negative integer, got '${count}'`);
    state.set(STORE, `stock/${name}`, count);
    const id = pubsub.publish(BROKER, TOPIC, `${name}=${count}`);
    return new Response(200, count).withHeader('x-message-id', id);
  }
  if (req.method === 'GET') {
    const count = state.get(STORE, `stock/${name}`);
    return count === null ? new Response(404, `no stock recorded for ${name}`) : new Response(200, count);
  }
  return new Response(405, `stock does not serve ${req.method}; use GET or PUT`).withHeader('allow', 'GET, PUT');
});
