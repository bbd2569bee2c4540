// Checks a module against the ABI before it is accepted, so a function that would
// fail at its first request fails at deploy time instead, with the reason named.
import {
  ABI_IMPORTS,
  ABI_VERSIONS,
  HTTP_HANDLER,
  POST_RETURN_SIGNATURE,
  REALLOC_SIGNATURE,
  SUBSCRIBER,
  existsInVersion,
  isSupportedVersion,
  parseImportModule,
  type AbiExport,
  type AbiImport,
} from '../abi.ts';
import { L8Error } from '../errors.ts';
import { WASI_MODULE, isWasiFunction } from '../wasi-preview1.ts';
import { binaryKind, formatSignature, functionSignatures, sameSignature } from '../wasm-sections.ts';

export interface LinkedImport {
  module: string;
  name: string;
  /** The ABI function, or null for WASI preview 1. */
  abi: AbiImport | null;
}

export interface ExportBinding {
  /** Core export name, e.g. "l8:faas/http-handler@0.1.0#handle". */
  name: string;
  /** cabi_post_* export name, when the module has one. */
  postReturn: string | null;
}

export interface CheckedModule {
  form: 'l8-core';
  imports: LinkedImport[];
  handle: ExportBinding | null;
  onMessage: ExportBinding | null;
  hasInitialize: boolean;
}

const invalid = (message: string) => new L8Error('invalid_module', message);

const DOCS = 'see abi/README.md for what a function may import and must export';

export interface CheckOptions {
  /**
   * The bytes already passed this check (e.g. when they were uploaded): skip the
   * WebAssembly validation, which costs about as much as compiling.
   */
  validated?: boolean;
}

/**
 * Validates and checks a core module against the L8 ABI. Reads imports and exports
 * from the binary itself, so no compilation is needed (the host compiles the
 * instrumented module later, once).
 */
export function checkModule(bytes: Uint8Array, options: CheckOptions = {}): CheckedModule {
  const kind = binaryKind(bytes);
  if (kind === 'not-wasm') {
    const head = Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'empty';
    throw invalid(
      `not a WebAssembly binary: it starts with 0x${head}, not "\\0asm". Deploy the compiled .wasm file, not its source or text format`,
    );
  }
  if (kind === 'component') {
    throw invalid('this is a WebAssembly component; deploy it on the component path (components are accepted by deploy when the component host is enabled)');
  }
  if (!options.validated && !WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) {
    // Only compiling says what is wrong.
    try {
      new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
    } catch (error) {
      throw invalid(`not a valid WebAssembly module: ${(error as Error).message}`);
    }
    throw invalid('not a valid WebAssembly module');
  }
  let signatures;
  try {
    signatures = functionSignatures(bytes);
  } catch (error) {
    throw invalid(`could not read the module's signatures: ${(error as Error).message}`);
  }

  const imports: LinkedImport[] = [];
  for (const imp of signatures.importList) {
    const where = `import "${imp.module}" "${imp.name}"`;
    if (imp.kind !== 'function') {
      throw invalid(`${where} is a ${imp.kind}; L8 functions may only import functions (and must define their own memory); ${DOCS}`);
    }
    if (imp.module === WASI_MODULE) {
      if (!isWasiFunction(imp.name)) throw invalid(`${where} is not a WASI preview 1 function`);
      imports.push({ module: imp.module, name: imp.name, abi: null });
      continue;
    }
    const parsed = parseImportModule(imp.module);
    if (!parsed) {
      throw invalid(`${where} is not part of the L8 ABI; functions may import only l8:faas/* and ${WASI_MODULE} (${DOCS})`);
    }
    if (!isSupportedVersion(parsed.version)) {
      throw invalid(`${where} needs ABI version ${parsed.version}, but this runtime implements ${ABI_VERSIONS.join(', ')}; rebuild the function with a matching SDK or upgrade L8`);
    }
    const abi = ABI_IMPORTS.find((f) => f.interface === parsed.interface && f.name === imp.name);
    if (!abi || !existsInVersion(abi, parsed.version)) {
      throw invalid(`${where}: the L8 ABI ${parsed.version} has no function "${imp.name}" in interface "${parsed.interface}"; ${DOCS}`);
    }
    const actual = signatures.imports.get(`${imp.module}\0${imp.name}`);
    if (!actual || !sameSignature(actual, abi.signature)) {
      throw invalid(`${where} has core signature ${actual ? formatSignature(actual) : 'unknown'}, but the ABI says ${formatSignature(abi.signature)}`);
    }
    imports.push({ module: imp.module, name: imp.name, abi });
  }

  const exports = new Map(signatures.exportList.map((e) => [e.name, e.kind]));
  if (exports.get('memory') !== 'memory') throw invalid(`the module must export its linear memory as "memory"; ${DOCS}`);
  if (exports.has('_start')) {
    throw invalid('the module exports "_start", so it is a WASI command; functions are libraries: build a reactor (Rust: crate-type "cdylib"; Go: -buildmode=c-shared)');
  }
  const expectFunc = (name: string, expected: { params: string[]; results: string[] }) => {
    if (exports.get(name) !== 'function') return false;
    const actual = signatures.exports.get(name);
    if (!actual || !sameSignature(actual, expected as never)) {
      throw invalid(`export "${name}" has core signature ${actual ? formatSignature(actual) : 'unknown'}, but the ABI says ${formatSignature(expected as never)}`);
    }
    return true;
  };
  if (!expectFunc('cabi_realloc', REALLOC_SIGNATURE)) throw invalid(`the module must export "cabi_realloc"; ${DOCS}`);
  const hasInitialize = expectFunc('_initialize', { params: [], results: [] });

  const findExport = (exp: AbiExport): ExportBinding | null => {
    const pattern = new RegExp(`^l8:faas/${exp.interface}@(\\d+\\.\\d+\\.\\d+)#${exp.name}$`);
    const found = [...exports.keys()].filter((n) => pattern.test(n));
    if (found.length === 0) return null;
    if (found.length > 1) throw invalid(`the module exports ${found.join(' and ')}; export one version only`);
    const name = found[0]!;
    const version = pattern.exec(name)![1]!;
    if (!isSupportedVersion(version)) {
      throw invalid(`export "${name}" targets ABI ${version}, but this runtime implements ${ABI_VERSIONS.join(', ')}`);
    }
    expectFunc(name, exp.signature);
    const post = `cabi_post_${name}`;
    return { name, postReturn: expectFunc(post, POST_RETURN_SIGNATURE) ? post : null };
  };
  const handle = findExport(HTTP_HANDLER);
  const onMessage = findExport(SUBSCRIBER);
  if (!handle && !onMessage) {
    throw invalid(`the module exports neither "l8:faas/http-handler@<version>#handle" nor "l8:faas/subscriber@<version>#on-message"; register a handler with the SDK (${DOCS})`);
  }
  return { form: 'l8-core', imports, handle, onMessage, hasInitialize };
}
