// Builds every Go example into build/<function>.wasm (BuildTarget of
// scripts/build-examples.ts): with Go >= 1.24 by default, with TinyGo >= 0.34
// when L8_GO=tinygo. Each folder here with a main.go is one function; all share
// go.mod, which points l8.dev/l8 at abi/go, so nothing is downloaded.
// Go's build and module caches stay where `go env GOCACHE GOMODCACHE` says
// (CI keeps them between runs).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from '../../scripts/build-examples.ts';
import { runner } from '../../scripts/build-support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = runner(here);

const MIN_GO = [1, 24] as const; // //go:wasmexport and -buildmode=c-shared on wasip1
const MIN_TINYGO = [0, 34] as const; // //go:wasmexport and -buildmode=c-shared

type Compiler = 'go' | 'tinygo';

function compiler(): Compiler {
  const choice = process.env.L8_GO ?? 'go';
  if (choice !== 'go' && choice !== 'tinygo') {
    throw new Error(`L8_GO must be "go" or "tinygo", got "${choice}"`);
  }
  return choice;
}



const atLeast = (major: number, minor: number, min: readonly [number, number]) =>
  major > min[0] || (major === min[0] && minor >= min[1]);

export async function missingToolchain(): Promise<string | null> {
  let which: Compiler;
  try {
    which = compiler();
  } catch (error) {
    return (error as Error).message;
  }
  if (which === 'go') {
    let version: string;
    try {
      version = (await run('go', ['env', 'GOVERSION'])).stdout.trim();
    } catch {
      return 'needs Go >= 1.24 on PATH (https://go.dev/dl/), or TinyGo >= 0.34 with L8_GO=tinygo';
    }
    const m = /go(\d+)\.(\d+)/.exec(version);
    if (!m) return `could not read the Go version from \`go env GOVERSION\` ("${version}"); needs Go >= 1.24`;
    if (!atLeast(Number(m[1]), Number(m[2]), MIN_GO)) {
      return `needs Go >= 1.24 for //go:wasmexport, found ${version}; upgrade Go or use TinyGo >= 0.34 with L8_GO=tinygo`;
    }
    return null;
  }
  let version: string;
  try {
    version = (await run('tinygo', ['version'])).stdout.trim();
  } catch {
    return 'L8_GO=tinygo but `tinygo` is not on PATH; install TinyGo >= 0.34 (https://tinygo.org/getting-started/) or unset L8_GO to build with Go >= 1.24';
  }
  const m = /tinygo version (\d+)\.(\d+)/.exec(version);
  if (!m) return `could not read the TinyGo version from \`tinygo version\` ("${version}"); needs TinyGo >= 0.34`;
  if (!atLeast(Number(m[1]), Number(m[2]), MIN_TINYGO)) {
    return `needs TinyGo >= 0.34 for //go:wasmexport with -buildmode=c-shared, found "${version}"`;
  }
  return null;
}

/** Function folders: every directory with a main.go. */
export async function functions(): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(here, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'build') continue;
    try {
      if ((await stat(path.join(here, entry.name, 'main.go'))).isFile()) names.push(entry.name);
    } catch {
      // not a function folder
    }
  }
  return names.sort();
}

/** The command that builds one function (abi/go/README.md documents the same flags). */
function buildCommand(which: Compiler, name: string, output: string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (which === 'go') {
    return {
      command: 'go',
      // -trimpath: no local paths in the module, so builds are reproducible.
      args: ['build', '-buildmode=c-shared', '-trimpath', '-o', output, `./${name}`],
      // GOTOOLCHAIN=local: never download another Go; GOWORK=off: a go.work
      // around the checkout must not change what the examples build against.
      env: { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm', GOTOOLCHAIN: 'local', GOWORK: 'off' },
    };
  }
  const { GOOS: _os, GOARCH: _arch, ...env } = process.env;
  return {
    command: 'tinygo',
    // -scheduler=none: the host calls cabi_realloc while an import call is in
    // progress, and TinyGo only supports such re-entrant //go:wasmexport calls
    // without its goroutine scheduler (it also makes modules smaller).
    args: ['build', '-target=wasip1', '-buildmode=c-shared', '-scheduler=none', '-o', output, `./${name}`],
    env: { ...env, GOWORK: 'off' },
  };
}

export async function build(options: BuildOptions): Promise<void> {
  const which = compiler();
  const names = await functions();
  await mkdir(path.join(here, 'build'), { recursive: true });
  const failures: string[] = [];
  const buildOne = async (name: string) => {
    const output = path.join(here, 'build', `${name}.wasm`);
    const { command, args, env } = buildCommand(which, name, output);
    const started = performance.now();
    try {
      await run(command, args, env);
      const { size } = await stat(output);
      options.log(`${name}: ${size} bytes in ${Math.round(performance.now() - started)} ms (${which})`);
    } catch (error) {
      const e = error as Error & { stderr?: string };
      failures.push(`${name}: \`${command} ${args.join(' ')}\` failed:\n${(e.stderr || e.message).trim()}`);
    }
  };
  // The first build compiles the runtime and standard library for wasm into the
  // build cache; the others reuse it, in parallel.
  const [first, ...rest] = names;
  if (first) await buildOne(first);
  const queue = [...rest];
  const workers = Array.from({ length: Math.max(1, Math.min(queue.length, availableParallelism())) }, async () => {
    for (let name = queue.shift(); name; name = queue.shift()) await buildOne(name);
  });
  await Promise.all(workers);
  if (failures.length) throw new Error(failures.join('\n'));
}
