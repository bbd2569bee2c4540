// Builds every example function in every language from source.
// Used by `npm install` (prepare), `npm start` and CI. Each language folder has a
// `build.ts` that exports `missingToolchain()` and `build()` (see BuildTarget).
// Outside CI a language whose toolchain is missing is skipped with a warning, so a
// newcomer with only Node can still run the AssemblyScript demo; with CI=true it fails.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export interface BuildOptions {
  /** Print one progress line. */
  log: (message: string) => void;
}

export interface BuildTarget {
  /** Returns why this language cannot be built here (and how to fix it), or null. */
  missingToolchain(): Promise<string | null>;
  /** Builds every function of the language into examples/<language>/build/<name>.wasm. */
  build(options: BuildOptions): Promise<void>;
}

const languages = ['assemblyscript', 'rust', 'tinygo', 'proxy-wasm', 'javascript'] as const;
const root = fileURLToPath(new URL('..', import.meta.url));
const SKIP_DIRS = new Set(['build', 'target', 'node_modules']);

/** Newest modification time of the files under `dir` (build outputs excluded). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) latest = Math.max(latest, newest(join(dir, entry.name)));
    } else {
      latest = Math.max(latest, statSync(join(dir, entry.name)).mtimeMs);
    }
  }
  return latest;
}

/** True when every output is newer than every source of the language and its SDK. */
function upToDate(language: string): boolean {
  const buildDir = join(root, 'examples', language, 'build');
  let outputs: string[];
  try {
    outputs = readdirSync(buildDir).filter((f) => f.endsWith('.wasm'));
  } catch {
    return false;
  }
  if (outputs.length === 0) return false;
  const oldestOutput = Math.min(...outputs.map((f) => statSync(join(buildDir, f)).mtimeMs));
  const sdk = join(root, 'abi', language === 'tinygo' ? 'go' : language);
  // proxy-wasm examples carry their own glue: there is no SDK folder to compare with.
  return oldestOutput > Math.max(newest(join(root, 'examples', language)), existsSync(sdk) ? newest(sdk) : 0);
}

async function main(): Promise<void> {
  const ci = process.env.CI === 'true';
  const ifStale = process.argv.includes('--if-stale');
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const selected = only.length ? languages.filter((l) => only.includes(l)) : [...languages];
  let failed = false;
  for (const language of selected) {
    const url = new URL(`../examples/${language}/build.ts`, import.meta.url);
    let target: BuildTarget;
    try {
      target = (await import(url.href)) as BuildTarget;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && !ci) {
        console.warn(`[build-examples] ${language}: no build.ts yet, skipped`);
        continue;
      }
      throw error;
    }
    if (ifStale && upToDate(language)) {
      console.log(`[build-examples] ${language}: up to date`);
      continue;
    }
    const missing = await target.missingToolchain();
    if (missing) {
      if (ci) {
        console.error(`[build-examples] ${language}: ${missing}`);
        failed = true;
      } else {
        console.warn(`[build-examples] ${language}: skipped, ${missing}`);
      }
      continue;
    }
    const started = performance.now();
    try {
      await target.build({ log: (m) => console.log(`[build-examples] ${language}: ${m}`) });
      console.log(`[build-examples] ${language}: done in ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      console.error(`[build-examples] ${language}: build failed: ${(error as Error).message}`);
      failed = true;
    }
  }
  if (failed) process.exit(1);
}

await main();
