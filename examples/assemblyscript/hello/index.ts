// GET /hello: logs through the log capability and answers with a greeting.
import { http, log, Request, Response } from "l8";

http.handle((req: Request): Response => {
  log.info("hello called");
  return Response.text(200, "Hello from AssemblyScript!");
});
