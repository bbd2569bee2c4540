// Request ids: a random prefix per thread and a counter — unique without paying for a
// UUID per request (which costs more than a short guest call).
import { randomBytes } from 'node:crypto';

const PREFIX = randomBytes(6).toString('hex');
let next = 0;

export function newRequestId(): string {
  return `${PREFIX}-${(next++).toString(36)}`;
}
