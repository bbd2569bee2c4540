// AssemblyScript guest for the instrumentation tests: loops of several shapes, a
// counter in a mutable global, strings, arrays and maps (the runtime's allocator and GC
// loops run too), and memory.grow.

let counter: i32 = 0;
const table = new Map<i32, string>(); // initialised by the start function

export function bump(): i32 {
  counter += 1;
  return counter;
}

/** Sum of i*i mod 7 below n: a loop the optimizer cannot turn into a formula. */
export function sum(n: i32): i64 {
  let s: i64 = 0;
  for (let i = 0; i < n; i++) s += <i64>((i * i) % 7);
  return s;
}

export function sortChecksum(n: i32, seed: u32): u32 {
  const a = new Array<i32>(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    a[i] = <i32>(x >>> 8);
  }
  a.sort((p, q) => p - q);
  let h: u32 = 2166136261;
  for (let i = 0; i < n; i++) h = (h ^ <u32>a[i]) * 16777619;
  return h;
}

export function strings(n: i32): i32 {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += i.toString(16) + ',';
    if (!table.has(i % 13)) table.set(i % 13, s.slice(0, 8));
  }
  const parts = s.split(',');
  let h = parts.length;
  for (let i = 0; i < parts.length; i++) h = h * 31 + parts[i].length + (parts[i].length > 0 ? parts[i].charCodeAt(0) : 0);
  return h + table.size;
}

export function floats(n: i32): f64 {
  let x = 0.5;
  let acc = 0.0;
  do {
    x = 3.9 * x * (1 - x);
    acc += Math.sqrt(x) + Math.sin(x);
  } while (--n > 0);
  return acc;
}

/** Store-heavy: n pseudo-random 32-bit stores into a 256 KiB buffer, then its checksum. */
export function stores(n: i32, seed: u32): u32 {
  const a = new StaticArray<u32>(65536);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = x * 1103515245 + 12345;
    unchecked((a[(x >>> 8) & 65535] = x));
  }
  let h: u32 = 2166136261;
  for (let i = 0; i < 65536; i++) h = (h ^ unchecked(a[i])) * 16777619;
  return h;
}

/** Loops until `limit` iterations pass; with a huge limit it is effectively infinite. */
export function spin(limit: i32): i32 {
  let i = 0;
  while (i != limit) i++;
  return i;
}

export function grow(pages: i32): i32 {
  return memory.grow(pages);
}
