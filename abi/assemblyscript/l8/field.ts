/// <reference path="./runtime-builtins.d.ts" />
/** One name/value pair of an ordered list: an HTTP header or a message metadata entry. */
export class Field {
  name: string;
  value: string;

  constructor(name: string, value: string) {
    this.name = name;
    this.value = value;
  }
}

/** ASCII-only lower-casing: header names are ASCII, and this avoids Unicode case tables. */
export function asciiLower(text: string): string {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
    i++;
  }
  if (i == n) return text;
  const out = changetype<string>(__new(<usize>n << 1, idof<String>()));
  memory.copy(changetype<usize>(out), changetype<usize>(text), <usize>i << 1);
  for (; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    store<u16>(changetype<usize>(out) + (<usize>i << 1), <u16>c);
  }
  return out;
}

/** The value of the first field whose name equals `name`, ignoring ASCII case, or null. */
export function findField(fields: Field[], name: string): string | null {
  const wanted = asciiLower(name);
  for (let i = 0, n = fields.length; i < n; i++) {
    const field = unchecked(fields[i]);
    if (field.name == wanted || asciiLower(field.name) == wanted) return field.value;
  }
  return null;
}
