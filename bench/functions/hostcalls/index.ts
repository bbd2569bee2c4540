// GET /hostcalls?n=N — calls state.get N times, to measure one guest->host->guest call.
import { http, state, Request, Response } from "l8";

http.handle((req: Request): Response => {
  const n = I32.parseInt(req.query("n")!);
  let found = 0;
  for (let i = 0; i < n; i++) {
    const got = state.get("default", "k");
    if (got.ok && got.value !== null) found++;
  }
  return Response.text(200, found.toString());
});
