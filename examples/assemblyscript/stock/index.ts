// PUT /stock/:name records a stock count and announces it on topic `stock-changed`;
// GET /stock/:name answers the recorded count. A failed host call answers its error's
// status, e.g. 503 `unavailable: state store "default": ...` while Redis is down.
import { http, pubsub, state, Request, Response } from "l8";

function isCount(text: string): bool {
  if (text.length == 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

http.handle((req: Request): Response => {
  const name = req.param("name");
  const key = "stock/" + name;

  if (req.method == "PUT") {
    const count = req.text();
    if (!isCount(count)) {
      return Response.text(400, `stock count must be a non-negative integer, got '${count}'`);
    }
    const stored = state.set("default", key, count);
    if (stored) return Response.fromError(stored);
    const published = pubsub.publish("default", "stock-changed", `${name}=${count}`);
    if (!published.ok) return Response.fromError(published.error!);
    return Response.text(200, count).header("x-message-id", published.value);
  }

  const got = state.getText("default", key);
  if (!got.ok) return Response.fromError(got.error!);
  const count = got.value;
  if (count === null) return Response.text(404, `no stock recorded for ${name}`);
  return Response.text(200, count);
});
