// The guest languages whose example builds the suites run against. In CI every language
// must be built (a missing build fails); on a laptop a language whose toolchain is
// missing is left out with a printed note, never silently.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './runtime-process.ts';

export const ALL_LANGUAGES = ['assemblyscript', 'rust', 'tinygo'] as const;
export type Language = (typeof ALL_LANGUAGES)[number];

export function buildPath(language: Language, fn: string): string {
  return join(ROOT, 'examples', language, 'build', `${fn}.wasm`);
}

function available(): Language[] {
  if (process.env.CI === 'true') return [...ALL_LANGUAGES];
  const present = ALL_LANGUAGES.filter((l) => existsSync(buildPath(l, 'conformance')));
  for (const missing of ALL_LANGUAGES.filter((l) => !present.includes(l))) {
    console.warn(`[conformance] ${missing}: no build in examples/${missing}/build (npm run build:examples); its tests are not run here. In CI they are required.`);
  }
  return present;
}

export const LANGUAGES: Language[] = available();

/** The built module of `fn` in `language`; a clear failure if it was not built. */
export function requireBuild(language: Language, fn: string): string {
  const path = buildPath(language, fn);
  if (!existsSync(path)) {
    throw new Error(`${language}: ${path} is missing; build the examples with "npm run build:examples"`);
  }
  return path;
}
