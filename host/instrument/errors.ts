/**
 * A module L8 cannot instrument, with a message that says what was wrong and how to fix
 * it. The host turns it into an `invalid_module` error at deploy time.
 */
export class InstrumentError extends Error {
  /** Byte offset in the input module the problem was found at, when there is one. */
  readonly offset: number | undefined;

  constructor(message: string, offset?: number) {
    super(message);
    this.name = 'InstrumentError';
    this.offset = offset;
  }
}
