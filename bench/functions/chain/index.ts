// GET /chain/:n — invokes itself with n-1 until n is 0: an invoke chain of n+1 calls.
import { http, invoke, Request, Response } from "l8";

http.handle((req: Request): Response => {
  const n = I32.parseInt(req.param("n")!);
  if (n <= 0) return Response.text(200, "end");
  const answer = invoke.call("chain", new Request("GET", "/chain/" + (n - 1).toString()));
  if (!answer.ok) return Response.text(502, answer.error!.message);
  return Response.text(200, answer.value.text());
});
