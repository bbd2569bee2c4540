/// <reference path="./runtime-builtins.d.ts" />
// UTF-8 at the ABI boundary. AssemblyScript strings are UTF-16; the host speaks UTF-8.

/**
 * Decodes `len` bytes at `ptr` the way the WHATWG TextDecoder does: every invalid or
 * truncated sequence becomes U+FFFD, so arbitrary request bodies decode predictably.
 * (AssemblyScript's own String.UTF8.decode does not validate.)
 */
export function decodeUTF8(ptr: usize, len: usize): string {
  if (len == 0) return "";
  // One UTF-16 unit per input byte at most: ASCII and replacements are one byte -> one
  // unit, longer sequences produce fewer units than bytes.
  const out = __new(len << 1, idof<String>());
  let o = out;
  let i = ptr;
  const end = ptr + len;
  while (i < end) {
    const b0 = <u32>load<u8>(i);
    if (b0 < 0x80) {
      store<u16>(o, <u16>b0);
      o += 2;
      i++;
      continue;
    }
    let need: u32 = 0;
    let cp: u32 = 0;
    let lower: u32 = 0x80;
    let upper: u32 = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      need = 1;
      cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      if (b0 == 0xE0) lower = 0xA0; // overlong
      if (b0 == 0xED) upper = 0x9F; // surrogates
      need = 2;
      cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      if (b0 == 0xF0) lower = 0x90; // overlong
      if (b0 == 0xF4) upper = 0x8F; // above U+10FFFF
      need = 3;
      cp = b0 & 0x07;
    } else {
      store<u16>(o, 0xFFFD);
      o += 2;
      i++;
      continue;
    }
    i++;
    let valid = true;
    while (need > 0) {
      if (i >= end) {
        valid = false;
        break;
      }
      const b = <u32>load<u8>(i);
      if (b < lower || b > upper) {
        // The offending byte is not consumed: it may start the next sequence.
        valid = false;
        break;
      }
      lower = 0x80;
      upper = 0xBF;
      cp = (cp << 6) | (b & 0x3F);
      i++;
      need--;
    }
    if (!valid) {
      store<u16>(o, 0xFFFD);
      o += 2;
    } else if (cp < 0x10000) {
      store<u16>(o, <u16>cp);
      o += 2;
    } else {
      cp -= 0x10000;
      store<u16>(o, <u16>(0xD800 | (cp >> 10)));
      store<u16>(o + 2, <u16>(0xDC00 | (cp & 0x3FF)));
      o += 4;
    }
  }
  return changetype<string>(__renew(out, o - out));
}

/** Decodes the bytes of a Uint8Array (see decodeUTF8). */
export function decodeBytes(bytes: Uint8Array): string {
  return decodeUTF8(bytes.dataStart, <usize>bytes.byteLength);
}

/** Encodes a string as UTF-8; unpaired surrogates become U+FFFD, as TextEncoder does. */
export function encodeUTF8(text: string): ArrayBuffer {
  return String.UTF8.encode(text, false, String.UTF8.ErrorMode.REPLACE);
}

/** The UTF-8 bytes of a string as a Uint8Array. */
export function utf8Bytes(text: string): Uint8Array {
  return Uint8Array.wrap(encodeUTF8(text));
}
