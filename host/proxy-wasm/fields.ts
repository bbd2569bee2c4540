// Header maps as proxy-wasm passes them: a count, then (key length, value length) pairs,
// then every key and value followed by a NUL byte, all integers little-endian u32.
import type { Fields } from '../guest-memory.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class MapFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MapFormatError';
  }
}

export function serializeFields(fields: Fields): Uint8Array {
  const encoded = fields.map(([k, v]) => [encoder.encode(k), encoder.encode(v)] as const);
  let size = 4 + encoded.length * 8;
  for (const [k, v] of encoded) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, encoded.length, true);
  let at = 4;
  for (const [k, v] of encoded) {
    view.setUint32(at, k.length, true);
    view.setUint32(at + 4, v.length, true);
    at += 8;
  }
  for (const [k, v] of encoded) {
    out.set(k, at);
    at += k.length + 1; // NUL already 0
    out.set(v, at);
    at += v.length + 1;
  }
  return out;
}

/** Parses a serialized map; an empty input or a single 0 byte is the empty map. */
export function parseFields(bytes: Uint8Array): Fields {
  if (bytes.length === 0 || (bytes.length === 1 && bytes[0] === 0)) return [];
  if (bytes.length < 4) throw new MapFormatError(`a serialized header map needs at least 4 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  let at = 4 + count * 8;
  if (count > bytes.length || at > bytes.length) throw new MapFormatError(`a serialized header map says it has ${count} entries but is only ${bytes.length} bytes long`);
  const fields: Fields = [];
  for (let i = 0; i < count; i++) {
    const keyLength = view.getUint32(4 + i * 8, true);
    const valueLength = view.getUint32(8 + i * 8, true);
    if (at + keyLength + valueLength + 2 > bytes.length) throw new MapFormatError(`entry ${i} of a serialized header map runs past its end`);
    const key = decode(bytes.subarray(at, at + keyLength), i, 'key');
    at += keyLength + 1;
    const value = decode(bytes.subarray(at, at + valueLength), i, 'value');
    at += valueLength + 1;
    fields.push([key, value]);
  }
  return fields;
}

function decode(bytes: Uint8Array, index: number, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new MapFormatError(`the ${what} of entry ${index} of a serialized header map is not valid UTF-8`);
  }
}

/** A header map a guest reads and edits during one request. Names compare case-insensitively. */
export class HeaderMap {
  fields: Fields;

  constructor(fields: Fields = []) {
    this.fields = fields.map(([k, v]) => [k.toLowerCase(), v]);
  }

  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.fields.find(([k]) => k === key)?.[1];
  }

  add(name: string, value: string): void {
    this.fields.push([name.toLowerCase(), value]);
  }

  replace(name: string, value: string): void {
    this.remove(name);
    this.add(name, value);
  }

  remove(name: string): void {
    const key = name.toLowerCase();
    this.fields = this.fields.filter(([k]) => k !== key);
  }

  set(fields: Fields): void {
    this.fields = fields.map(([k, v]) => [k.toLowerCase(), v]);
  }

  serialized(): Uint8Array {
    return serializeFields(this.fields);
  }
}
