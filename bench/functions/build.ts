// Builds the functions only the benchmarks use (bench/functions/*): AssemblyScript ones
// with the SDK's build helper, and a generated ~200 KB Rust module for the cold-start case.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '../..');
export const BENCH_BUILD = join(ROOT, 'bench/build');

export async function buildBenchFunctions(): Promise<void> {
  const { buildFunctions } = await import('../../abi/assemblyscript/build.ts');
  const jobs = readdirSync(HERE, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(HERE, e.name, 'index.ts')))
    .map((e) => ({ sourceFile: join(HERE, e.name, 'index.ts'), outFile: join(BENCH_BUILD, `${e.name}.wasm`) }))
    .filter((job) => !existsSync(job.outFile) || statSync(job.outFile).mtimeMs < statSync(job.sourceFile).mtimeMs);
  const outcomes = await buildFunctions(jobs);
  const failed = outcomes.filter((o): o is Error => o instanceof Error);
  if (failed.length) throw new Error(failed.map((f) => f.message).join('\n'));
}

/**
 * A Rust function of about 200 KB: `count` generated handlers that format numbers, all
 * reachable from the one entry point, built with the Rust SDK. Null when no Rust
 * toolchain with a wasm target is available.
 */
export function buildGeneratedRust(count = 600): string | null {
  const out = join(BENCH_BUILD, `rust-generated-${count}.wasm`);
  if (existsSync(out)) return out;
  const rustc = existsSync('/usr/bin/rustc') ? '/usr/bin/rustc' : null;
  if (!rustc) return null;
  const crate = join(BENCH_BUILD, `rust-generated-${count}`);
  mkdirSync(join(crate, 'src'), { recursive: true });
  mkdirSync(join(crate, '.cargo'), { recursive: true });
  writeFileSync(join(crate, 'Cargo.toml'), `[package]\nname = "generated"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\nl8 = { path = "${join(ROOT, 'abi/rust')}" }\n\n[profile.release]\nopt-level = "s"\nlto = true\ncodegen-units = 1\npanic = "abort"\nstrip = true\n\n[workspace]\n`);
  writeFileSync(join(crate, '.cargo/config.toml'), '[target.wasm32-wasi]\nrustflags = ["-C", "link-arg=-zstack-size=65536"]\n');
  const handlers = Array.from({ length: count }, (_, i) =>
    `#[inline(never)]\nfn h${i}(x: u64) -> String {\n    let mut v = x.wrapping_mul(${i * 2654435761 % 1000003}).rotate_left(${i % 63});\n    for k in 0..${(i % 7) + 3} { v ^= v >> (k + ${i % 5}); v = v.wrapping_add(${i}); }\n    format!("h${i}:{}:{:x}:{}", v, v ^ ${i}, x + ${i})\n}\n`,
  ).join('\n');
  const arms = Array.from({ length: count }, (_, i) => `        ${i} => h${i}(n),`).join('\n');
  writeFileSync(join(crate, 'src/lib.rs'), `use l8::{Request, Response};\n\n${handlers}\nfn handle(req: Request) -> Response {\n    let n = req.path.len() as u64;\n    let body = match (n as usize) % ${count} {\n${arms}\n        _ => String::new(),\n    };\n    Response::new(200).with_body(body)\n}\n\nl8::http_handler!(handle);\n`);
  execFileSync('/usr/bin/cargo', ['build', '--release', '--target', 'wasm32-wasi', '--quiet'], { cwd: crate, env: { ...process.env, RUSTC: rustc }, stdio: 'inherit' });
  copyFileSync(join(crate, 'target/wasm32-wasi/release/generated.wasm'), out);
  return out;
}
