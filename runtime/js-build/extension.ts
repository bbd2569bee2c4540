// `l8 build <file.js|file.ts> [--out FILE] [--world NAME]`: a JavaScript or TypeScript
// function to a WebAssembly component (abi/javascript/build.ts), ready for `l8 deploy`.
import { parseArgs } from 'node:util';
import { basename, dirname, extname, join } from 'node:path';
import { buildJavaScript, WORLDS, type World } from '../../abi/javascript/build.ts';
import type { RuntimeExtension } from '../extension.ts';

const USAGE = `l8 build <file.js|file.ts> [--out FILE.wasm] [--world ${WORLDS.join('|')}]`;

async function build(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string', short: 'o' }, world: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(`${USAGE}

Builds a JavaScript or TypeScript function into a WebAssembly component with
componentize-js. The module imports the SDK as 'l8' and exports httpHandler and/or
subscriber (the l8:faas world), or handles fetch events (wasi:http). See
abi/javascript/README.md.`);
    return 0;
  }
  const entry = positionals[0];
  if (!entry || positionals.length > 1) throw new Error(`expected one source file: ${USAGE}`);
  if (values.world !== undefined && !(WORLDS as readonly string[]).includes(values.world)) {
    throw new Error(`--world must be one of ${WORLDS.join(', ')}, got "${values.world}"`);
  }
  const out = values.out ?? join(dirname(entry), `${basename(entry, extname(entry))}.wasm`);
  const result = await buildJavaScript({ entry, out, world: values.world as World | undefined });
  console.log(`built ${result.out} (${result.world}, ${(result.bytes / (1 << 20)).toFixed(1)} MiB) in ${(result.millis / 1000).toFixed(1)} s`);
  return 0;
}

export const jsBuildExtension: RuntimeExtension = {
  name: 'js-build',
  commands: { build: { usage: USAGE, run: build } },
};
