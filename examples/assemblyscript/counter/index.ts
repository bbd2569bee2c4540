// POST /counter/:name adds one to state key `counter/<name>` and answers the new value.
import { http, state, Request, Response } from "l8";

http.handle((req: Request): Response => {
  const key = "counter/" + req.param("name");
  const got = state.getText("default", key);
  if (!got.ok) return Response.fromError(got.error!);
  const current = got.value;
  const next = (current === null ? 0 : I64.parseInt(current)) + 1;
  const stored = state.set("default", key, next.toString());
  if (stored) return Response.fromError(stored);
  return Response.text(200, next.toString());
});
