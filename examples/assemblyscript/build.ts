// Builds every AssemblyScript example into build/<function>.wasm (BuildTarget of
// scripts/build-examples.ts). Each folder here with an index.ts is one function.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from '../../scripts/build-examples.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function missingToolchain(): Promise<string | null> {
  try {
    import.meta.resolve('assemblyscript/asc');
    return null;
  } catch {
    return 'the AssemblyScript compiler is not installed; run `npm install` in the repository root';
  }
}

/** Function folders: every directory with an index.ts. */
async function functions(): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(here, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'build' || entry.name === 'node_modules') continue;
    try {
      if ((await stat(path.join(here, entry.name, 'index.ts'))).isFile()) names.push(entry.name);
    } catch {
      // not a function folder
    }
  }
  return names.sort();
}

export async function build(options: BuildOptions): Promise<void> {
  const { buildFunction } = await import('../../abi/assemblyscript/build.ts');
  const failures: string[] = [];
  for (const name of await functions()) {
    try {
      const result = await buildFunction(path.join(here, name, 'index.ts'), path.join(here, 'build', `${name}.wasm`));
      options.log(`${name}: ${result.size} bytes in ${Math.round(result.ms)} ms${result.warnings ? `\n${result.warnings}` : ''}`);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  if (failures.length) throw new Error(failures.join('\n'));
}
