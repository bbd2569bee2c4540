// GET /inventory?name=X: asks the `stock` function (through invoke, not the network) how
// many X there are, and says so in a sentence. Written in TypeScript: `l8 build` strips
// the types (erasable syntax only).
import { http, HostError, invoke, Response, type Request } from 'l8';

function inventory(req: Request): Response {
  const name: string | null = req.queryParam('name');
  if (!name) return new Response(400, "missing query parameter 'name'");
  let stock: Response;
  try {
    stock = invoke.call('stock', { method: 'GET', path: `/stock/${encodeURIComponent(name)}` });
  } catch (error) {
    if (error instanceof HostError) return new Response(502, `stock is unavailable: ${error.message}`);
    throw error;
  }
  if (stock.status === 200) return new Response(200, `There are ${stock.text()} inventories for ${name}.`);
  if (stock.status === 404) return new Response(404, `There is no inventory for ${name}.`);
  return new Response(502, `stock is unavailable: it answered ${stock.status} ${stock.text()}`);
}

export const httpHandler = http(inventory);
