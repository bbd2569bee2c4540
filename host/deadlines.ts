// One timer for many deadlines. Every request and host call has a deadline; giving each
// its own setTimeout costs more than a short guest call itself, so deadlines are kept in
// a set that one interval timer sweeps every few milliseconds (the precision timeouts
// need: a 100 ms timeout fires within ~105 ms).

export interface DeadlineHandle {
  cancel(): void;
}

const SWEEP_MS = 5;

interface Entry {
  at: number;
  fire: () => void;
}

const entries = new Set<Entry>();
let timer: NodeJS.Timeout | null = null;

function sweep(): void {
  const now = performance.now();
  for (const entry of entries) {
    if (entry.at <= now) {
      entries.delete(entry);
      entry.fire();
    }
  }
  if (entries.size === 0 && timer) {
    clearInterval(timer);
    timer = null;
  }
}

/** Calls `fire` once `at` (performance.now() clock) has passed, unless cancelled first. */
export function atDeadline(at: number, fire: () => void): DeadlineHandle {
  const entry: Entry = { at, fire };
  entries.add(entry);
  if (!timer) {
    timer = setInterval(sweep, SWEEP_MS);
    timer.unref();
  }
  return { cancel: () => entries.delete(entry) };
}

/**
 * Settles with `work`'s outcome, or rejects with `onTimeout()` once `at` has passed,
 * whichever comes first.
 */
export function withDeadline<T>(work: Promise<T>, at: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const handle = atDeadline(at, () => reject(onTimeout()));
    work.then(
      (value) => {
        handle.cancel();
        resolve(value);
      },
      (error: unknown) => {
        handle.cancel();
        reject(error);
      },
    );
  });
}
