// GET /inventory?name=X asks the `stock` function (through invoke, not the network) how
// many X there are.
import { http, invoke, Request, Response } from "l8";

http.handle((req: Request): Response => {
  const name = req.query("name");
  if (name === null) return Response.text(400, "missing query parameter 'name'");

  const answer = invoke.call("stock", new Request("GET", "/stock/" + name));
  if (!answer.ok) return Response.text(502, `stock is unavailable: ${answer.error!.message}`);
  const stock = answer.value;

  if (stock.status == 200) return Response.text(200, `There are ${stock.text()} inventories for ${name}.`);
  if (stock.status == 404) return Response.text(404, `There is no inventory for ${name}.`);
  return Response.text(502, `stock is unavailable: it answered ${stock.status}: ${stock.text()}`);
});
