// Builds every example function in every language from source.
// Used by `npm install` (prepare), `npm start` and CI. Each language folder has a
// `build.ts` that exports `missingToolchain()` and `build()` (see BuildTarget).
// Outside CI a language whose toolchain is missing is skipped with a warning, so a
// newcomer with only Node can still run the AssemblyScript demo; with CI=true it fails.
import { performance } from 'node:perf_hooks';

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

const languages = ['assemblyscript', 'rust', 'tinygo'] as const;

async function main(): Promise<void> {
  const ci = process.env.CI === 'true';
  const only = process.argv.slice(2);
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
