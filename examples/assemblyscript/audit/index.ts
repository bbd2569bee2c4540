// Keeps an audit trail of stock changes: every message on `stock-changed` is appended to
// state key `audit`; GET /audit answers the trail.
import { http, state, subscriber, Message, Request, Response } from "l8";

subscriber.handle((msg: Message): string | null => {
  const got = state.getText("default", "audit");
  if (!got.ok) return `could not read the audit trail: ${got.error!.toString()}`;
  const trail = got.value;
  const line = `${msg.id} ${msg.text()}\n`;
  const stored = state.set("default", "audit", trail === null ? line : trail + line);
  if (stored) return `could not append to the audit trail: ${stored.toString()}`;
  return null;
});

http.handle((req: Request): Response => {
  const got = state.get("default", "audit");
  if (!got.ok) return Response.fromError(got.error!);
  const trail = got.value;
  return Response.bytes(200, trail === null ? new Uint8Array(0) : trail, "text/plain; charset=utf-8");
});
