// Builds every JavaScript/TypeScript example into build/<function>.wasm (BuildTarget of
// scripts/build-examples.ts): each folder with an index.js or index.ts is one function,
// built into a WebAssembly component by `l8 build` (componentize-js). componentize-js
// runs wizer synchronously, so the builds run as child processes, two at a time.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from '../../scripts/build-examples.ts';
import { exists } from '../../scripts/build-support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const l8 = path.join(here, '..', '..', 'bin', 'l8.js');

export async function missingToolchain(): Promise<string | null> {
  try {
    import.meta.resolve('@bytecodealliance/componentize-js');
    import.meta.resolve('@bytecodealliance/jco');
    return null;
  } catch {
    return 'componentize-js is not installed; run `npm install` in the repository root';
  }
}


/** Function folders and their entry modules. */
async function functions(): Promise<Array<{ name: string; entry: string }>> {
  const found: Array<{ name: string; entry: string }> = [];
  for (const entry of await readdir(here, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'build' || entry.name === 'node_modules') continue;
    for (const file of ['index.js', 'index.ts']) {
      const source = path.join(here, entry.name, file);
      if (await exists(source)) {
        found.push({ name: entry.name, entry: source });
        break;
      }
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

function buildOne(entry: string, out: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [l8, 'build', entry, '--out', out], { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.relative(here, entry)}: ${(stderr || error.message).trim()}`));
      else resolve(stdout.trim());
    });
  });
}

export async function build(options: BuildOptions): Promise<void> {
  const queue = await functions();
  const failures: Error[] = [];
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      try {
        options.log(await buildOne(job.entry, path.join(here, 'build', `${job.name}.wasm`)));
      } catch (error) {
        failures.push(error as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(2, availableParallelism()) }, worker));
  if (failures.length) throw new Error(failures.map((f) => f.message).join('\n'));
}
