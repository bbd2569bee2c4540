// How an instrumented guest shares the thread. Its `interrupt` import runs every fuel
// quantum; the instance answers with more fuel at once, or, once the guest has computed
// for a whole slice, only after the event loop has had a turn (so one spinning guest
// cannot starve other requests), or never, once its call is cancelled.

/** A promise that never settles: a cancelled guest stays suspended and is dropped. */
export const parkForever = (): Promise<number> => new Promise<number>(() => {});

export class TimeSlice {
  private start = 0;
  private readonly sliceMs: number;
  private readonly fuelQuantum: number;

  constructor(sliceMs: number, fuelQuantum: number) {
    this.sliceMs = sliceMs;
    this.fuelQuantum = fuelQuantum;
  }

  /** A call enters the guest: its slice starts now. */
  begin(): void {
    this.start = performance.now();
  }

  /** The next quantum of fuel: at once within the slice, after a setImmediate turn past it. */
  next(now: number): number | Promise<number> {
    if (now - this.start < this.sliceMs) return this.fuelQuantum;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.start = performance.now();
        resolve(this.fuelQuantum);
      }),
    );
  }
}
