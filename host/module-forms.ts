// Which module forms L8 runs, and the compile cache in front of them. A deployed binary
// is handed to the first form that accepts it (newest registration first), so adding a
// form (proxy-wasm, components) never touches the others.
import { createHash } from 'node:crypto';
import { componentForm } from './component/component-form.ts';
import { coreForm } from './core/core-form.ts';
import type { CompiledFunction, CompileOptions, ModuleForm } from './guest-instance.ts';
import { proxyWasmForm } from './proxy-wasm/form.ts';

const forms: ModuleForm[] = [componentForm, proxyWasmForm, coreForm];

export function registerForm(form: ModuleForm): void {
  if (!forms.some((f) => f.name === form.name)) forms.unshift(form);
}

export function formFor(bytes: Uint8Array): ModuleForm {
  return forms.find((f) => f.accepts(bytes)) ?? coreForm;
}

/** Checks a binary against the contract of its form (deploy-time validation). */
export async function checkBinary(bytes: Uint8Array): Promise<string> {
  const form = formFor(bytes);
  await form.check(bytes);
  return form.name;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function compileFunction(bytes: Uint8Array, options: CompileOptions): Promise<CompiledFunction> {
  return formFor(bytes).compile(bytes, options);
}

/** Compiled functions by sha256 and memory limit, shared by every version using the same bytes. */
export class ModuleCache {
  private readonly entries = new Map<string, Promise<CompiledFunction>>();
  private readonly cacheDir: string | undefined;
  private readonly validated: boolean;

  /** `validated`: every module given to get() passed checkBinary already (the registry's do). */
  constructor(cacheDir?: string, options: { validated?: boolean } = {}) {
    this.cacheDir = cacheDir;
    this.validated = options.validated ?? false;
  }

  get(bytes: Uint8Array, maxMemoryPages: number, digest = sha256(bytes)): Promise<CompiledFunction> {
    const key = `${digest}:${maxMemoryPages}`;
    let compiled = this.entries.get(key);
    if (!compiled) {
      compiled = compileFunction(bytes, { maxMemoryPages, sha256: digest, cacheDir: this.cacheDir, validated: this.validated });
      this.entries.set(key, compiled);
      compiled.catch(() => this.entries.delete(key));
    }
    return compiled;
  }

  /** Drops what no deployed version uses any more. */
  retain(digests: Set<string>): void {
    for (const key of this.entries.keys()) {
      if (!digests.has(key.slice(0, key.indexOf(':')))) this.entries.delete(key);
    }
  }
}
