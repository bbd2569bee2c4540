// POST /notify/:topic publishes the request body to that topic on broker `default`.
import { http, pubsub, Request, Response } from "l8";

http.handle((req: Request): Response => {
  const published = pubsub.publish("default", req.param("topic"), req.body);
  if (!published.ok) return Response.fromError(published.error!);
  return Response.text(202, published.value);
});
