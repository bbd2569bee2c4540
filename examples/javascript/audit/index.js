// The demo's audit log (examples/README.md).
// - Subscribed to `stock-changed` on broker `default`: appends `<message id> <data>\n` to
//   state key `audit` in store `default` (read, append, write).
// - GET /audit: the whole log (empty body if nothing was recorded yet).
import { http, Response, state, subscriber as onMessage } from 'l8';

const STORE = 'default';
const KEY = 'audit';

export const subscriber = onMessage((msg) => {
  const before = state.get(STORE, KEY) ?? new Uint8Array(0);
  const prefix = new TextEncoder().encode(`${msg.id} `);
  const log = new Uint8Array(before.length + prefix.length + msg.data.length + 1);
  log.set(before, 0);
  log.set(prefix, before.length);
  log.set(msg.data, before.length + prefix.length);
  log[log.length - 1] = 0x0a;
  state.set(STORE, KEY, log);
});

export const httpHandler = http(() => new Response(200, state.get(STORE, KEY) ?? ''));
