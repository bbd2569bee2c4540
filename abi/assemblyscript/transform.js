// The asc transform that turns an AssemblyScript program using the L8 SDK into an L8
// function module (abi/README.md, "Core module"):
//
//  - afterParse adds an entry that re-exports the SDK's ABI glue (l8/glue.ts), so a
//    function's own file only has to call `http.handle(...)` / `subscriber.handle(...)`.
//  - afterCompile gives the glue's exports their canonical names, which AssemblyScript
//    identifiers cannot spell (`l8:faas/http-handler@0.2.0#handle`, `cabi_post_...`),
//    drops the exports of handlers the program never registers, and fails the build
//    when the module would import anything the L8 host does not provide or still has
//    a start function (the host calls `_initialize`).
//
// buildFunction() in build.ts applies it with the asc options it relies on. With the asc
// CLI: `asc fn.ts --transform <this file> --path <dir containing l8/> ...` (see README.md).

/** The ABI version this SDK targets; it is part of every import and export name. */
export const ABI_VERSION = '0.2.0';

const GLUE_ENTRY = '~lib/l8-exports.ts';
const GLUE_SOURCE = 'export { cabi_realloc, __l8_handle, __l8_handle_post, __l8_on_message, __l8_on_message_post } from "l8/glue";\n';

/**
 * Glue export -> canonical name, grouped by the registration function whose presence in
 * the compiled module says the program uses that export.
 */
export const HANDLERS = [
  {
    register: 'http.handle',
    registerFunction: '~lib/l8/http/http.handle',
    exports: {
      __l8_handle: `l8:faas/http-handler@${ABI_VERSION}#handle`,
      __l8_handle_post: `cabi_post_l8:faas/http-handler@${ABI_VERSION}#handle`,
    },
  },
  {
    register: 'subscriber.handle',
    registerFunction: '~lib/l8/subscriber/subscriber.handle',
    exports: {
      __l8_on_message: `l8:faas/subscriber@${ABI_VERSION}#on-message`,
      __l8_on_message_post: `cabi_post_l8:faas/subscriber@${ABI_VERSION}#on-message`,
    },
  },
];

/** Imports the host provides: L8 interfaces of this ABI version, and WASI preview 1. */
export const ALLOWED_IMPORTS = {
  [`l8:faas/state@${ABI_VERSION}`]: ['get', 'set', 'delete'],
  [`l8:faas/pubsub@${ABI_VERSION}`]: ['publish'],
  [`l8:faas/config@${ABI_VERSION}`]: ['get'],
  [`l8:faas/invoke@${ABI_VERSION}`]: ['call'],
  [`l8:faas/log@${ABI_VERSION}`]: ['write'],
  [`l8:faas/lock@${ABI_VERSION}`]: ['try-lock', 'unlock', 'keep-alive'],
  [`l8:faas/sequencer@${ABI_VERSION}`]: ['next-id'],
};
const WASI = 'wasi_snapshot_preview1';

/** Hints for imports AssemblyScript adds when code uses JavaScript-host features. */
function importHint(module, name) {
  if (module === 'env' && (name === 'abort' || name === 'trace' || name === 'seed')) {
    return `AssemblyScript imports ${name} from the JavaScript host unless it is redirected; build with buildFunction() from abi/assemblyscript/build.ts, or pass --use ${name}=~lib/l8/runtime/l8${name[0].toUpperCase()}${name.slice(1)}`;
  }
  if (module === 'env' && name.startsWith('console.')) {
    return 'AssemblyScript\'s console calls into JavaScript; build with buildFunction(), which points console at WASI stdout/stderr (--use console=~lib/l8/io/console), or use io.stdout()/log.info() from "l8"';
  }
  if (module === 'env' && (name.startsWith('Date.') || name.startsWith('performance.'))) {
    return 'Date and performance call into JavaScript, which L8 functions cannot reach; there is no clock API in the L8 SDK yet (WASI clock_time_get works if you declare it with @external)';
  }
  if (module === 'env' && name.startsWith('process.')) {
    return 'process calls into JavaScript, which L8 functions cannot reach';
  }
  return 'declare imports only with the L8 SDK (or @external("wasi_snapshot_preview1", ...) for WASI)';
}

export default class L8Transform {
  afterParse(parser) {
    parser.parseFile(GLUE_SOURCE, GLUE_ENTRY, true);
  }

  afterCompile(module) {
    const binaryen = this.binaryen;
    const problems = [];

    const exports = new Map();
    for (let i = 0, n = module.getNumExports(); i < n; i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      exports.set(info.name, info);
    }
    const missing = ['cabi_realloc', ...HANDLERS.flatMap((h) => Object.keys(h.exports))].filter((name) => !exports.has(name));
    if (missing.length) {
      throw new Error(`L8 transform: the SDK glue exports ${missing.join(', ')} are missing; is --path pointing at the L8 AssemblyScript SDK that belongs to this transform?`);
    }

    let registered = 0;
    for (const handler of HANDLERS) {
      const used = module.getFunction(handler.registerFunction) !== 0;
      for (const [glueName, canonicalName] of Object.entries(handler.exports)) {
        const internalName = exports.get(glueName).value;
        module.removeExport(glueName);
        if (used) module.addFunctionExport(internalName, canonicalName);
      }
      if (used) registered++;
    }
    if (registered === 0) {
      problems.push(
        'no handler is registered: call http.handle((req: Request): Response => ...) and/or subscriber.handle((msg: Message): string | null => ...) from "l8" at the top level of the function\'s entry file',
      );
    }

    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (!info.module) continue;
      const allowed = info.module === WASI || ALLOWED_IMPORTS[info.module]?.includes(info.base);
      if (!allowed) {
        problems.push(`the module would import "${info.module}" "${info.base}" (used by ${info.name}), which the L8 host does not provide: ${importHint(info.module, info.base)}`);
      }
    }
    for (let i = 0, n = module.getNumGlobals(); i < n; i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      if (info.module) problems.push(`the module would import global "${info.module}" "${info.base}"; L8 functions import functions only`);
    }
    if (module.hasMemory() && module.getMemoryInfo().module) {
      problems.push('the module imports its memory; L8 functions must define and export their own (drop --importMemory)');
    }
    if (module.getStart() !== 0) {
      problems.push('the module has a start function, which would run at instantiation; compile with --exportStart _initialize (the host calls it once, before taking its snapshot)');
    }

    if (problems.length) {
      throw new Error(`L8: this program cannot become an L8 function:\n  - ${problems.join('\n  - ')}`);
    }
  }
}
