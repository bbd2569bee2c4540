// application/x-www-form-urlencoded decoding for query strings.
import { decodeUTF8 } from "./utf8";
import { Field } from "./field";

function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes one form-urlencoded component of `text` (from `start` to `end`): `+` is a
 * space, `%XX` a byte, and the bytes are UTF-8 (invalid sequences become U+FFFD). A `%`
 * not followed by two hex digits is kept as is, as browsers do.
 */
export function formDecode(text: string, start: i32 = 0, end: i32 = i32.MAX_VALUE): string {
  if (end > text.length) end = text.length;
  let plain = true;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c == 43 /* + */ || c == 37 /* % */ || c >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return text.substring(start, end);
  const slice = String.UTF8.encode(text.substring(start, end), false, String.UTF8.ErrorMode.REPLACE);
  const src = changetype<usize>(slice);
  const len = <usize>slice.byteLength;
  const out = new ArrayBuffer(<i32>len);
  const dst = changetype<usize>(out);
  let o: usize = 0;
  for (let i: usize = 0; i < len; i++) {
    const c = <i32>load<u8>(src + i);
    if (c == 43) {
      store<u8>(dst + o++, 32);
    } else if (c == 37 && i + 2 < len && hexValue(load<u8>(src + i + 1)) >= 0 && hexValue(load<u8>(src + i + 2)) >= 0) {
      store<u8>(dst + o++, <u8>((hexValue(load<u8>(src + i + 1)) << 4) | hexValue(load<u8>(src + i + 2))));
      i += 2;
    } else {
      store<u8>(dst + o++, <u8>c);
    }
  }
  return decodeUTF8(dst, o);
}

/** Every `name=value` pair of a raw query string, decoded, in order. */
export function parseQuery(query: string): Field[] {
  const fields = new Array<Field>();
  const n = query.length;
  let start = 0;
  while (start <= n) {
    let end = query.indexOf("&", start);
    if (end < 0) end = n;
    if (end > start) {
      let eq = query.indexOf("=", start);
      if (eq < 0 || eq > end) eq = end;
      fields.push(new Field(formDecode(query, start, eq), eq < end ? formDecode(query, eq + 1, end) : ""));
    }
    start = end + 1;
  }
  return fields;
}

/** The decoded value of the first query parameter called `name`, or null. */
export function queryValue(query: string, name: string): string | null {
  const fields = parseQuery(query);
  for (let i = 0, n = fields.length; i < n; i++) {
    const field = unchecked(fields[i]);
    if (field.name == name) return field.value;
  }
  return null;
}
