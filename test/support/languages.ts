// The guest languages whose example builds the suites run against. In CI every language
// must be built (a missing build fails); on a laptop a language whose toolchain is
// missing is left out with a printed note, never silently.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './runtime-process.ts';

export const ALL_LANGUAGES = ['assemblyscript', 'rust', 'tinygo', 'javascript'] as const;
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

/**
 * The conformance function on the component path, besides the JavaScript build (which is
 * a component already): `rust-component` is the Rust core module (wasm32-wasi) wrapped
 * into a component with standard tooling and the preview1 reactor adapter, and
 * `rust-unknown-component` the wasm32-unknown-unknown build (no WASI imports) wrapped
 * without one; both must behave exactly like their core twin. `javascript-http` is the
 * wasi:http/incoming-handler build (examples/javascript/conformance-http), which
 * implements the behaviours wasi:http can express.
 */
export const ALL_COMPONENT_FORMS = ['rust-component', 'rust-unknown-component', 'javascript-http'] as const;
export type ComponentForm = (typeof ALL_COMPONENT_FORMS)[number];

/** The language build each component form comes from. */
const COMPONENT_SOURCE: Record<ComponentForm, { language: Language; fn: string }> = {
  'rust-component': { language: 'rust', fn: 'conformance' },
  'rust-unknown-component': { language: 'rust', fn: 'conformance-unknown' },
  'javascript-http': { language: 'javascript', fn: 'conformance-http' },
};

export const COMPONENT_FORMS: ComponentForm[] = ALL_COMPONENT_FORMS.filter((form) => {
  const { language, fn } = COMPONENT_SOURCE[form];
  if (!LANGUAGES.includes(language)) return false;
  if (process.env.CI === 'true' || existsSync(buildPath(language, fn))) return true;
  console.warn(`[conformance] ${form}: no ${buildPath(language, fn)} (npm run build:examples); its tests are not run here. In CI they are required.`);
  return false;
});

/** Whether a form is a plain wasi:http component (no l8:faas imports, no subscriber). */
export function isWasiHttp(form: Language | ComponentForm): boolean {
  return form === 'javascript-http';
}

/** Whether a form's guest can print: the wasm32-unknown-unknown build has no stdout or stderr. */
export function hasStdio(form: Language | ComponentForm): boolean {
  return form !== 'rust-unknown-component';
}

/** The module of a component form's conformance function, made in `dir` when it has to be wrapped. */
export async function componentBuild(form: ComponentForm, dir: string): Promise<string> {
  const { language, fn } = COMPONENT_SOURCE[form];
  if (form === 'javascript-http') return requireBuild(language, fn);
  const { wrapCoreModule } = await import('../../host/component/wrap.ts');
  const { component } = await wrapCoreModule(readFileSync(requireBuild(language, fn)));
  const path = join(dir, `${fn}.component.wasm`);
  writeFileSync(path, component);
  return path;
}
