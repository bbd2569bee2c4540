// Deploying: store the module, validate the manifest, activate the new version through
// the registry. Used by the admin API, `l8 serve --app`, and (later) the Kubernetes agent,
// so every path applies the same checks.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { L8Error } from '../host/errors.ts';
import { checkBinary } from '../host/module-forms.ts';
import { parseManifest, type Manifest } from '../functions/manifest.ts';
import type { Activate, FunctionRegistry, FunctionVersion } from '../functions/registry.ts';

export interface DeployResult {
  name: string;
  version: number;
  sha256: string;
  changed: boolean;
}

export class Deployer {
  private readonly registry: FunctionRegistry;
  /** Makes a version live everywhere it runs (the main table and every worker lane). */
  private readonly activate: Activate;

  constructor(registry: FunctionRegistry, activate: Activate) {
    this.registry = registry;
    this.activate = activate;
  }

  /** Checks a module against the ABI and stores it; returns its sha256. */
  async upload(bytes: Uint8Array): Promise<string> {
    await checkBinary(bytes);
    return this.registry.putModule(bytes);
  }

  async deploy(manifest: Manifest, sha256: string): Promise<DeployResult> {
    const { version, changed } = await this.registry.deploy(manifest, sha256, this.activate);
    return { name: manifest.name, version: version.version, sha256, changed };
  }

  async rollback(name: string): Promise<FunctionVersion> {
    return this.registry.rollback(name, this.activate);
  }

  async remove(name: string): Promise<void> {
    await this.registry.remove(name, this.activate);
  }

  /** Loads every function's active version at start. Returns the ones that failed. */
  async restore(): Promise<Array<{ name: string; error: string }>> {
    const failures: Array<{ name: string; error: string }> = [];
    for (const record of this.registry.list()) {
      const version = record.versions.find((v) => v.version === record.active);
      if (!version) continue;
      try {
        await this.activate(record.name, version);
      } catch (error) {
        failures.push({ name: record.name, error: (error as Error).message });
      }
    }
    return failures;
  }

  /** Deploys every function of an app file (see docs/manifest.md). */
  async deployApp(path: string): Promise<DeployResult[]> {
    const app = await readAppFile(path);
    const results: DeployResult[] = [];
    for (const entry of app) {
      const bytes = await readModuleFile(entry.modulePath, entry.manifest.name);
      const sha = await this.upload(bytes);
      results.push(await this.deploy(entry.manifest, sha));
    }
    return results;
  }
}

export interface AppEntry {
  manifest: Manifest;
  /** Absolute path of the module file. */
  modulePath: string;
}

export async function readModuleFile(path: string, fn: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new L8Error('bad_request', `function "${fn}": cannot read module ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); build it first (npm run build:examples)`);
  }
}

/** Reads an app file (`functions:` map) or a single-function manifest (`name:` + `module:`). */
export async function readAppFile(path: string): Promise<AppEntry[]> {
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new L8Error('bad_request', `cannot read app file ${path}: ${(error as Error).message}`);
  }
  const base = dirname(resolve(path));
  const entry = (raw: unknown, name?: string): AppEntry => {
    const input = { ...(raw as Record<string, unknown>) };
    const module = input.module;
    if (typeof module !== 'string') throw new L8Error('invalid_manifest', `${path}: function "${name ?? input.name}" needs "module: <path to .wasm>"`);
    return { manifest: parseManifest(input, name), modulePath: resolve(base, module) };
  };
  if (doc && typeof doc === 'object' && 'functions' in doc) {
    const functions = (doc as { functions: unknown }).functions;
    if (!functions || typeof functions !== 'object' || Array.isArray(functions)) {
      throw new L8Error('invalid_manifest', `${path}: "functions" must map names to function manifests`);
    }
    return Object.entries(functions).map(([name, raw]) => entry(raw, name));
  }
  return [entry(doc)];
}
