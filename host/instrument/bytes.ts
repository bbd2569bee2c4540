// Byte-level helpers for the rewriter: a bounds-checked reader for section headers and
// entries, and a growable writer. The instruction loop in code.ts reads the buffer
// directly for speed and uses only the writer from here.
import { InstrumentError } from './errors.ts';

export const hex = (n: number): string => `0x${n.toString(16)}`;

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  /** Reads past this offset are errors (the end of the current section or entry). */
  end: number;
  /** What is being read, for error messages ("import section"). */
  what: string;

  constructor(buf: Uint8Array, pos: number, end: number, what: string) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.what = what;
  }

  fail(message: string, at = this.pos): never {
    throw new InstrumentError(`${message} in the ${this.what} at byte offset ${hex(at)}`, at);
  }

  truncated(): never {
    this.fail('unexpected end of data (the module is truncated or a size field is wrong)');
  }

  u8(): number {
    if (this.pos >= this.end) this.truncated();
    return this.buf[this.pos++]!;
  }

  u32(): number {
    const start = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) this.truncated();
      const b = this.buf[this.pos++]!;
      if (shift === 28) {
        // Fifth byte: only the low 4 bits may be used, no continuation.
        if (b & 0xf0) this.fail('malformed or too large unsigned LEB128 integer', start);
        return (result | (b << 28)) >>> 0;
      }
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  /** Skips a signed or unsigned LEB128 of at most `maxBytes` bytes. */
  skipLeb(maxBytes = 10): void {
    const start = this.pos;
    for (;;) {
      if (this.pos >= this.end) this.truncated();
      const b = this.buf[this.pos++]!;
      if ((b & 0x80) === 0) return;
      if (this.pos - start >= maxBytes) this.fail('malformed LEB128 integer', start);
    }
  }

  /** Signed LEB128 of up to 33 bits (heap types, block types), as a JS number. */
  s33(): number {
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.end) this.truncated();
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= mul;
        return result;
      }
      if (this.pos - start >= 5) this.fail('malformed signed LEB128 integer', start);
    }
  }

  skip(n: number): void {
    if (n > this.end - this.pos) this.truncated();
    this.pos += n;
  }

  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    return textDecoder.decode(this.buf.subarray(start, this.pos));
  }
}

const textDecoder = new TextDecoder('utf-8', { fatal: false });
const textEncoder = new TextEncoder();

export class Writer {
  buf: Uint8Array;
  len = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(64, capacity));
  }

  ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  u32(v: number): void {
    this.ensure(5);
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v !== 0);
  }

  /** Signed LEB128 of a 32-bit integer (i32.const immediates). */
  s32(v: number): void {
    this.ensure(5);
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }

  /** Copies src[start, end). */
  copy(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    this.ensure(n);
    if (n < 64) {
      // Short runs (between two calls in a function body) are most of the copies; a
      // loop beats creating a subarray view for each.
      const buf = this.buf;
      let at = this.len;
      for (let i = start; i < end; i++) buf[at++] = src[i]!;
      this.len = at;
      return;
    }
    this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  bytes(src: Uint8Array): void {
    this.copy(src, 0, src.length);
  }

  name(s: string): void {
    const encoded = textEncoder.encode(s);
    this.u32(encoded.length);
    this.bytes(encoded);
  }

  /**
   * Reserves room for a size prefix written later by `endSized`. Sizes are only known
   * after the content is written; writing the content in place and moving it back by
   * the unused prefix bytes avoids a second buffer per section and per function.
   */
  beginSized(): number {
    this.ensure(5);
    this.len += 5;
    return this.len;
  }

  endSized(contentStart: number): void {
    const size = this.len - contentStart;
    const n = lebLength(size);
    const prefixAt = contentStart - 5;
    if (n < 5) this.buf.copyWithin(prefixAt + n, contentStart, this.len);
    let v = size;
    for (let i = 0; i < n; i++) {
      let b = v & 0x7f;
      v >>>= 7;
      if (i < n - 1) b |= 0x80;
      this.buf[prefixAt + i] = b;
    }
    this.len -= 5 - n;
  }

  /** Replaces the `removed` bytes at `at` with `bytes`, moving what follows. */
  splice(at: number, removed: number, bytes: Uint8Array): void {
    const delta = bytes.length - removed;
    if (delta > 0) this.ensure(delta);
    this.buf.copyWithin(at + bytes.length, at + removed, this.len);
    this.buf.set(bytes, at);
    this.len += delta;
  }

  /** Inserts bytes at `at`, moving what follows. */
  insert(at: number, bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.copyWithin(at + bytes.length, at, this.len);
    this.buf.set(bytes, at);
    this.len += bytes.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export function lebLength(v: number): number {
  v >>>= 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

export function encodeU32(v: number): number[] {
  const out: number[] = [];
  v >>>= 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}
