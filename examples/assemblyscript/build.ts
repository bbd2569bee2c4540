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
  const { buildFunctions } = await import('../../abi/assemblyscript/build.ts');
  const names = await functions();
  const jobs = names.map((name) => ({ sourceFile: path.join(here, name, 'index.ts'), outFile: path.join(here, 'build', `${name}.wasm`) }));
  const outcomes = await buildFunctions(jobs, {
    onBuilt: (job, outcome) => {
      if (outcome instanceof Error) return;
      const name = path.basename(path.dirname(job.sourceFile));
      options.log(`${name}: ${outcome.size} bytes in ${Math.round(outcome.ms)} ms${outcome.warnings ? `\n${outcome.warnings}` : ''}`);
    },
  });
  const failures = outcomes.filter((o): o is Error => o instanceof Error);
  if (failures.length) throw new Error(failures.map((f) => f.message).join('\n'));
}
