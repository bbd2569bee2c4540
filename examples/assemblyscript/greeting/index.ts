// GET /greeting?name=X greets X with the configured `greeting` (default "Hello").
import { config, http, Request, Response } from "l8";

http.handle((req: Request): Response => {
  const configured = config.get("greeting");
  if (!configured.ok) return Response.fromError(configured.error!);
  const greeting = configured.value;
  const name = req.query("name");
  return Response.text(200, `${greeting === null ? "Hello" : greeting}, ${name === null ? "world" : name}!`);
});
