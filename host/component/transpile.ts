// Turning a component into something Node can run, once per binary: jco's programmatic
// `transpile` splits it into its core modules and writes JavaScript glue that lifts and
// lowers every call ("async" instantiation: L8 supplies the imports and instantiates the
// core modules itself; JSPI mode for the imports and exports that may wait). That takes
// seconds for a JavaScript component, so the result is kept in the compile cache
// directory under the component's sha256 and reused after a restart.
//
// L8 also needs to see the glue's resource tables to put an instance back to its fresh
// state between requests (component-instance.ts). The generated code keeps them in
// closure variables; a small, checked rewrite of the generated source hands each table
// to L8 as it is created. A jco release that generates the glue differently fails here,
// at deploy, with a message, not later.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { L8Error } from '../errors.ts';
import { ASYNC_EXPORTS, ASYNC_IMPORTS } from './world.ts';

/** Bump when the transpile options or the glue rewrite change: old cache entries are then ignored. */
const FORMAT = 1;
const JCO_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('@bytecodealliance/jco')), 'utf8')) as { version: string }).version;
const GLUE_HOOK = 'l8:internal/glue';

export interface TranspiledComponent {
  /** Folder holding `component.js` and the core modules. */
  dir: string;
  /** Core module file names in the order the glue names them. */
  coreModules: string[];
  /** Milliseconds spent transpiling (0 when it came from the cache). */
  transpileMillis: number;
  fromCache: boolean;
}

interface Meta {
  format: number;
  jco: string;
  coreModules: string[];
}

/** Where the transpiled output of `digest` lives (and whether it is there already). */
function entryDir(cacheDir: string, digest: string): string {
  return join(cacheDir, 'components', `${digest}-jco${JCO_VERSION}-f${FORMAT}`);
}

async function readMeta(dir: string): Promise<Meta | null> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as Meta;
    return meta.format === FORMAT && meta.jco === JCO_VERSION ? meta : null;
  } catch {
    return null;
  }
}

/**
 * Rewrites the generated glue so it passes its resource tables to L8 through the import
 * object entry GLUE_HOOK. Throws if the glue does not have the expected shape.
 */
export function hookGlue(source: string): string {
  const signature = 'export function instantiate(getCoreModule, imports, instantiateCore = WebAssembly.instantiate) {';
  if (!source.includes(signature)) {
    throw new L8Error('internal', `jco ${JCO_VERSION} generated glue without "${signature}"; L8 supports the glue of jco 1.35 (update L8 or pin jco)`);
  }
  let hooked = source.replace(signature, `${signature}\n  const __l8Glue = imports[${JSON.stringify(GLUE_HOOK)}] ?? { handleTables: [], captureTables: [] };`);
  let handleTables = 0;
  let captureTables = 0;
  hooked = hooked.replace(/^(\s*)HANDLE_TABLES\[(\d+)\] = (handleTable\d+);$/gm, (_m, indent: string, index: string, table: string) => {
    handleTables++;
    return `${indent}HANDLE_TABLES[${index}] = ${table}; __l8Glue.handleTables.push(${table});`;
  });
  hooked = hooked.replace(/^(\s*)const (captureTable\d+)\s*= new Map\(\);$/gm, (_m, indent: string, table: string) => {
    captureTables++;
    return `${indent}const ${table} = new Map(); __l8Glue.captureTables.push(${table});`;
  });
  const declaredHandle = (source.match(/const handleTable\d+ = \[T_FLAG, 0\];/g) ?? []).length;
  const declaredCapture = (source.match(/const captureTable\d+\s*= new Map\(\);/g) ?? []).length;
  if (handleTables !== declaredHandle || captureTables !== declaredCapture) {
    throw new L8Error(
      'internal',
      `jco ${JCO_VERSION} generated glue whose resource tables L8 cannot track (${handleTables}/${declaredHandle} handle tables, ${captureTables}/${declaredCapture} capture tables); update L8 or pin jco 1.35`,
    );
  }
  return hooked;
}

export { GLUE_HOOK };

/** Transpiles `bytes` (or finds it in the cache) and returns where the output is. */
export async function transpileComponent(bytes: Uint8Array, options: { cacheDir?: string; sha256?: string }): Promise<TranspiledComponent> {
  const digest = options.sha256 ?? createHash('sha256').update(bytes).digest('hex');
  const cacheDir = options.cacheDir ?? join(tmpdir(), 'l8-cache');
  const dir = entryDir(cacheDir, digest);
  const cached = await readMeta(dir);
  if (cached) return { dir, coreModules: cached.coreModules, transpileMillis: 0, fromCache: true };

  const started = performance.now();
  const { transpile } = await import('@bytecodealliance/jco');
  let output: Awaited<ReturnType<typeof transpile>>;
  try {
    output = await transpile(bytes, {
      name: 'component',
      instantiation: 'async',
      asyncMode: 'jspi',
      asyncImports: [...ASYNC_IMPORTS],
      asyncExports: [...ASYNC_EXPORTS],
      noTypescript: true,
      // Core modules as separate files: L8 instruments and compiles them itself.
      base64Cutoff: 0,
      quiet: true,
    });
  } catch (error) {
    throw new L8Error('invalid_module', `jco could not transpile the component: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
  const js = output.files['component.js'];
  if (!js) throw new L8Error('internal', `jco ${JCO_VERSION} produced no component.js`);
  const glue = hookGlue(Buffer.from(js).toString('utf8'));
  const coreModules = Object.keys(output.files)
    .filter((name) => name.endsWith('.wasm'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

  // Written to a private folder first, then renamed: a crash leaves no half entry, and
  // two deploys of the same component do not see each other's partial files.
  await mkdir(join(cacheDir, 'components'), { recursive: true });
  const staging = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging);
  try {
    await writeFile(join(staging, 'component.js'), glue);
    for (const name of coreModules) await writeFile(join(staging, name), output.files[name]!);
    const meta: Meta = { format: FORMAT, jco: JCO_VERSION, coreModules };
    await writeFile(join(staging, 'meta.json'), JSON.stringify(meta));
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (!(await readMeta(dir))) throw error;
  }
  return { dir, coreModules, transpileMillis: performance.now() - started, fromCache: false };
}

/** Loads the glue module of a transpiled component. */
export async function loadGlue(dir: string): Promise<GlueModule> {
  return (await import(pathToFileURL(join(dir, 'component.js')).href)) as GlueModule;
}

export type InstantiateCore = (module: WebAssembly.Module, imports?: WebAssembly.Imports) => Promise<{ exports: WebAssembly.Exports }>;

export interface GlueModule {
  instantiate(
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore: InstantiateCore,
  ): Promise<Record<string, Record<string, (...args: unknown[]) => unknown>>>;
}
