// Runs a GOOS=wasip1 test binary under Node's WASI, for
// `go test -exec '"<node>" "<this file>"'` (see ../sdk.test.ts). The SDK's own
// wasm-only code (cabi_realloc, lifting, the exports) is tested this way; the
// binary imports nothing but WASI because the tests never call the host.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({
  version: 'preview1',
  args: [file, ...args],
  env: { PWD: process.cwd(), HOME: '/' },
  preopens: { '/': '/' },
  returnOnExit: true,
});
const module = new WebAssembly.Module(readFileSync(file));
const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(instance);
