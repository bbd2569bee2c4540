// ticket (ABI 0.2): hands out numbered tickets per queue, one request at a time.
//
// POST /ticket/:queue takes lock `queue/<queue>` in lock store `default` for 5 s (owner:
// this request's id). If someone else holds it, 409 `queue <queue> is busy`; otherwise the
// next id of key `<queue>` from sequencer `default`, then unlock and 200 `ticket <id>`.
// A failed host call answers its error's status (Response.fromError).
import { http, lock, sequencer, Request, Response } from "l8";

const LOCK_STORE = "default";
const SEQUENCER = "default";
// Long enough for one sequencer call; short enough that a crashed request does not block
// the queue for long.
const LEASE_SECONDS: u32 = 5;

http.handle((req: Request): Response => {
  const queue = req.param("queue");
  // The host gives every request a unique id: a natural owner that no other request can
  // unlock by accident.
  const requestId = req.header("l8-request-id");
  const owner = requestId === null ? "" : requestId;
  const resource = "queue/" + queue;

  const taken = lock.tryLock(LOCK_STORE, resource, owner, LEASE_SECONDS);
  if (!taken.ok) return Response.fromError(taken.error!);
  if (!taken.value) return Response.text(409, `queue ${queue} is busy`);

  const next = sequencer.nextId(SEQUENCER, queue);
  // Unlock whether or not the sequencer answered, so a failure does not block the queue
  // for the rest of the lease. A lease that ran out meanwhile (any status but success)
  // does not void the ticket: the sequencer alone keeps ids unique.
  const unlocked = lock.unlock(LOCK_STORE, resource, owner);
  if (!next.ok) return Response.fromError(next.error!);
  if (!unlocked.ok) return Response.fromError(unlocked.error!);
  return Response.text(200, `ticket ${next.value}`);
});
