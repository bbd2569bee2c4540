// The modules the cold-start case deploys: the smallest (AssemblyScript hello), the
// target size of the issue (~200 KB, generated Rust), and a large one (Go hello, ~2 MB).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/support/runtime-process.ts';
import { buildGeneratedRust } from './functions/build.ts';

export async function coldStartModules(): Promise<Array<{ label: string; bytes: Uint8Array }>> {
  const kb = (b: Uint8Array) => `${Math.round(b.length / 1024)} KB`;
  const list: Array<{ label: string; bytes: Uint8Array }> = [];
  const add = (what: string, path: string | null) => {
    if (!path) {
      console.warn(`cold start: ${what} skipped (no toolchain to build it)`);
      return;
    }
    const bytes = new Uint8Array(readFileSync(path));
    list.push({ label: `${what} (${kb(bytes)})`, bytes });
  };
  add('AssemblyScript hello', join(ROOT, 'examples/assemblyscript/build/hello.wasm'));
  add('generated Rust', buildGeneratedRust());
  add('Go hello', join(ROOT, 'examples/tinygo/build/hello.wasm'));
  return list;
}
