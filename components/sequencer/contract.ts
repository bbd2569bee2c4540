// The sequencer building block (Layotto's GetNextId): increasing ids per key.
import type { Component } from '../errors.ts';

export interface Sequencer extends Component {
  /** The next id for `key`: strictly greater than every id returned before for that key. */
  nextId(key: string): Promise<bigint>;
}
