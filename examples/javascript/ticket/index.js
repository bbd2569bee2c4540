// ticket (ABI 0.2): hands out numbered tickets per queue, one request at a time
// (examples/README.md).
//
// POST /ticket/:queue takes lock `queue/<queue>` in lock store `default` for 5 s (owner:
// this request's id). If someone else holds it, 409 `queue <queue> is busy`; otherwise
// the next id of key `<queue>` from sequencer `default`, then unlock and 200 `ticket <id>`.
// A failed host call answers its error's status (HostError -> Response).
import { http, lock, Response, sequencer } from 'l8';

const LOCK_STORE = 'default';
const SEQUENCER = 'default';
/** Long enough for one sequencer call; short enough that a crashed request does not block the queue for long. */
const LEASE_SECONDS = 5;

const text = (status, body) => Response.text(status, body);

export const httpHandler = http((req) => {
  const queue = req.param('queue') ?? '';
  // The host gives every request a unique id: a natural owner that no other request can
  // unlock by accident.
  const owner = req.requestId() ?? '';
  const resource = `queue/${queue}`;
  if (!lock.tryLock(LOCK_STORE, resource, owner, LEASE_SECONDS)) return text(409, `queue ${queue} is busy`);
  const settle = (run) => {
    try {
      return { value: run() };
    } catch (error) {
      return { error };
    }
  };
  const id = settle(() => sequencer.nextId(SEQUENCER, queue));
  // Unlock whether or not the sequencer answered, so a failure does not block the queue
  // for the rest of the lease. A lease that ran out meanwhile (any status but success)
  // does not void the ticket: the sequencer alone keeps ids unique.
  const unlocked = settle(() => lock.unlock(LOCK_STORE, resource, owner));
  if (id.error) throw id.error;
  if (unlocked.error) throw unlocked.error;
  return text(200, `ticket ${id.value}`);
});
