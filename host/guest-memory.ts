// Reading and writing canonical-ABI values in a guest's linear memory.
// Every read is bounds-checked and copies out, so the host never keeps a view into
// guest memory past the call; every allocation goes through the guest's cabi_realloc.
// With a dirty map (a module instrumented with dirty tracking), every write also marks
// the 4 KiB pages it touched, as the guest's own stores do, so a reset that restores
// only marked pages also undoes what the host wrote.
import { DIRTY_PAGE_BITS } from './instrument/index.ts';

export type Fields = Array<[string, string]>;

/** A guest broke the ABI (bad pointer, bad UTF-8, bad alignment): the call traps. */
export class AbiViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbiViolation';
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Pointer handed to the guest for empty strings and byte lists (never dereferenced). */
const EMPTY_BYTES_PTR = 1;
/** Pointer handed to the guest for empty `fields` lists (4-byte aligned). */
const EMPTY_FIELDS_PTR = 4;

export type Realloc = (oldPtr: number, oldSize: number, align: number, newSize: number) => number;

export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  private readonly realloc: Realloc;
  /** One byte per 4 KiB page (DIRTY_PAGE_SIZE), set to 1 when the page is written; null without dirty tracking. */
  private readonly dirty: Uint8Array | null;
  private buffer: ArrayBuffer;
  private bytes: Uint8Array;
  private view: DataView;

  constructor(memory: WebAssembly.Memory, realloc: Realloc, dirty: Uint8Array | null = null) {
    this.memory = memory;
    this.realloc = realloc;
    this.dirty = dirty;
    this.buffer = memory.buffer;
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /**
   * memory.grow detaches the old ArrayBuffer; re-take views when that happened. Checking
   * `detached` is much cheaper than asking the memory for its buffer on every access.
   */
  private sync(): void {
    if (this.buffer.detached) {
      this.buffer = this.memory.buffer;
      this.bytes = new Uint8Array(this.buffer);
      this.view = new DataView(this.buffer);
    }
  }

  get size(): number {
    this.sync();
    return this.buffer.byteLength;
  }

  /** The whole memory as bytes (valid until the guest runs again). */
  u8(): Uint8Array {
    this.sync();
    return this.bytes;
  }

  private check(ptr: number, len: number, what: string): void {
    if (ptr < 0 || len < 0 || ptr + len > this.bytes.length) {
      throw new AbiViolation(
        `${what}: range ${ptr}..${ptr + len} is outside the guest's ${this.bytes.length}-byte memory`,
      );
    }
  }

  /**
   * Marks the pages of [ptr, ptr+len) as written. Every write method here calls it; code
   * that writes through `u8()` (WASI random_get) must call it too.
   */
  markWritten(ptr: number, len: number): void {
    const dirty = this.dirty;
    if (dirty === null || len <= 0) return;
    // The range was bounds-checked: ptr + len <= memory size <= 4 GiB, so >>> is exact.
    const last = (ptr + len - 1) >>> DIRTY_PAGE_BITS;
    for (let page = ptr >>> DIRTY_PAGE_BITS; page <= last; page++) dirty[page] = 1;
  }

  readU8(ptr: number): number {
    this.sync();
    this.check(ptr, 1, 'read u8');
    return this.bytes[ptr]!;
  }

  readU16(ptr: number): number {
    this.sync();
    this.check(ptr, 2, 'read u16');
    return this.view.getUint16(ptr, true);
  }

  readU32(ptr: number): number {
    this.sync();
    this.check(ptr, 4, 'read u32');
    return this.view.getUint32(ptr, true);
  }

  writeU8(ptr: number, value: number): void {
    this.sync();
    this.check(ptr, 1, 'write u8');
    this.markWritten(ptr, 1);
    this.bytes[ptr] = value;
  }

  writeU16(ptr: number, value: number): void {
    this.sync();
    this.check(ptr, 2, 'write u16');
    this.markWritten(ptr, 2);
    this.view.setUint16(ptr, value, true);
  }

  writeU32(ptr: number, value: number): void {
    this.sync();
    this.check(ptr, 4, 'write u32');
    this.markWritten(ptr, 4);
    this.view.setUint32(ptr, value >>> 0, true);
  }

  /** Copies `len` bytes out of guest memory. */
  readBytes(ptr: number, len: number, what = 'bytes'): Uint8Array {
    ptr >>>= 0;
    len >>>= 0;
    if (len === 0) return new Uint8Array(0);
    this.sync();
    this.check(ptr, len, what);
    return this.bytes.slice(ptr, ptr + len);
  }

  readString(ptr: number, len: number, what = 'string'): string {
    ptr >>>= 0;
    len >>>= 0;
    if (len === 0) return '';
    this.sync();
    this.check(ptr, len, what);
    try {
      return utf8Decoder.decode(this.bytes.subarray(ptr, ptr + len));
    } catch {
      throw new AbiViolation(`${what} is not valid UTF-8`);
    }
  }

  /** Reads a `list<tuple<string, string>>`. */
  readFields(ptr: number, len: number, what = 'fields'): Fields {
    ptr >>>= 0;
    len >>>= 0;
    const fields: Fields = [];
    if (len === 0) return fields;
    if (ptr % 4 !== 0) throw new AbiViolation(`${what}: pointer ${ptr} is not 4-byte aligned`);
    this.sync();
    this.check(ptr, len * 16, what);
    for (let i = 0; i < len; i++) {
      const at = ptr + i * 16;
      const name = this.readString(this.readU32(at), this.readU32(at + 4), `${what}[${i}] name`);
      const value = this.readString(this.readU32(at + 8), this.readU32(at + 12), `${what}[${i}] value`);
      fields.push([name, value]);
    }
    return fields;
  }

  /** Allocates guest-owned memory with cabi_realloc and checks the pointer it returns. */
  alloc(align: number, size: number): number {
    const ptr = this.realloc(0, 0, align, size) >>> 0;
    this.sync();
    if (ptr % align !== 0) {
      throw new AbiViolation(`cabi_realloc returned ${ptr}, which is not aligned to ${align}`);
    }
    this.check(ptr, size, 'cabi_realloc result');
    return ptr;
  }

  /** Copies bytes into a fresh guest allocation; returns [ptr, len]. */
  writeBytes(data: Uint8Array): [number, number] {
    if (data.length === 0) return [EMPTY_BYTES_PTR, 0];
    const ptr = this.alloc(1, data.length);
    this.markWritten(ptr, data.length);
    this.bytes.set(data, ptr);
    return [ptr, data.length];
  }

  writeString(text: string): [number, number] {
    if (text.length === 0) return [EMPTY_BYTES_PTR, 0];
    const size = Buffer.byteLength(text, 'utf8');
    const ptr = this.alloc(1, size);
    this.markWritten(ptr, size);
    const { written } = utf8Encoder.encodeInto(text, this.bytes.subarray(ptr, ptr + size));
    if (written !== size) throw new AbiViolation('internal: UTF-8 length mismatch');
    return [ptr, size];
  }

  writeFields(fields: Fields): [number, number] {
    if (fields.length === 0) return [EMPTY_FIELDS_PTR, 0];
    const entries = fields.map(([name, value]) => [...this.writeString(name), ...this.writeString(value)]);
    const ptr = this.alloc(4, fields.length * 16);
    entries.forEach((entry, i) => {
      for (let j = 0; j < 4; j++) this.writeU32(ptr + i * 16 + j * 4, entry[j]!);
    });
    return [ptr, fields.length];
  }
}
