// Builds the Go pluggable component: generates its gRPC stubs from the Dapr .proto files
// in proto/ (tools/protogen, no protoc needed), then `go build`s build/memstore.
// Modules come from the Go module proxy into Go's own module cache (`go env GOMODCACHE`,
// under the home folder), which CI keeps between runs.
//
//   node examples/pluggable/build.ts        (or: npm run build:pluggable)
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const PLUGGABLE_DIR = import.meta.dirname;
export const MEMSTORE_BINARY = join(PLUGGABLE_DIR, 'build', 'memstore');
const PROTO_DIR = resolve(PLUGGABLE_DIR, '../../proto');

function go(args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    execFile('go', args, { cwd: PLUGGABLE_DIR, env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() }, maxBuffer: 16 << 20 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`go ${args.join(' ')} failed in ${PLUGGABLE_DIR}: ${stderr || error.message}`));
      else resolveRun();
    });
  });
}

/** Why Go cannot build the example here, or null. */
export async function missingToolchain(): Promise<string | null> {
  try {
    await go(['version']);
    return null;
  } catch {
    return 'needs Go on PATH (https://go.dev/dl/) to build the pluggable component in examples/pluggable; go.mod asks for Go 1.26, which an older go command downloads through the module proxy';
  }
}

function newest(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let latest = 0;
  for (const entry of readdirSync(path)) {
    if (entry === 'build' || entry === 'gen') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

/**
 * Runs `work` holding a lock directory, so test files building at the same time (vitest
 * runs files in parallel processes) do not write gen/ and build/ over each other.
 */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(PLUGGABLE_DIR, 'build', '.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than any build is left by a process that died.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${lock} is held by another build for too long; remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Generates the stubs and builds the binary unless both are newer than their sources. */
export async function buildPluggable(options: { log?: (line: string) => void } = {}): Promise<string> {
  const missing = await missingToolchain();
  if (missing) throw new Error(missing);
  return withBuildLock(() => buildLocked(options.log ?? (() => {})));
}

async function buildLocked(log: (line: string) => void): Promise<string> {
  const sources = Math.max(newest(PLUGGABLE_DIR), newest(join(PROTO_DIR, 'dapr')));
  if (existsSync(MEMSTORE_BINARY) && statSync(MEMSTORE_BINARY).mtimeMs > sources) {
    log(`pluggable: ${MEMSTORE_BINARY} is up to date`);
    return MEMSTORE_BINARY;
  }
  const t0 = performance.now();
  await go(['run', './tools/protogen', '-proto', PROTO_DIR, '-out', '.']);
  await go(['build', '-o', MEMSTORE_BINARY, './memstore']);
  log(`pluggable: built ${MEMSTORE_BINARY} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return MEMSTORE_BINARY;
}

if (import.meta.main) {
  buildPluggable({ log: console.log }).catch((error) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
