// The registry of deployed functions. Each deploy is an immutable version (module
// sha256 + manifest). Versions and modules live in the data directory, so everything is
// back after a restart. Changes are serialised, and the new version is loaded (through
// the `activate` callback) before it is recorded, so a version that cannot run is never
// the active one.
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '../host/module-forms.ts';
import { L8Error } from '../host/errors.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { FUNCTION_NAME, manifestInput, manifestKey, parseManifest, type Manifest } from './manifest.ts';

export interface FunctionVersion {
  version: number;
  sha256: string;
  manifest: Manifest;
  deployedAt: string;
}

export interface FunctionRecord {
  name: string;
  /** Version number of the active version. */
  active: number;
  versions: FunctionVersion[];
}

function storedModulePath(dataDir: string, digest: string): string {
  if (!/^[0-9a-f]{64}$/.test(digest)) throw new L8Error('bad_request', `"${digest}" is not a sha256 hex digest`);
  return join(dataDir, 'modules', `${digest}.wasm`);
}

/** Reads an uploaded module from a data dir (also used by worker lanes, which share it). */
export async function readStoredModule(dataDir: string, digest: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(storedModulePath(dataDir, digest)));
  } catch {
    throw new L8Error('not_found', `no module with sha256 ${digest} was uploaded; upload it first (POST /v1/modules)`);
  }
}

/** How many versions are kept per function for rollback. */
const KEEP_VERSIONS = 20;

export type Activate = (name: string, version: FunctionVersion | null) => Promise<void>;

export class FunctionRegistry {
  readonly dataDir: string;
  private readonly records = new Map<string, FunctionRecord>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  static async open(dataDir: string): Promise<FunctionRegistry> {
    const registry = new FunctionRegistry(dataDir);
    await mkdir(registry.modulesDir, { recursive: true });
    await mkdir(registry.functionsDir, { recursive: true });
    for (const file of await readdir(registry.functionsDir)) {
      if (!file.endsWith('.json')) continue;
      const path = join(registry.functionsDir, file);
      let record: FunctionRecord;
      try {
        record = JSON.parse(await readFile(path, 'utf8')) as FunctionRecord;
        // Re-validate: a manifest written by an older version must still parse.
        record.versions = record.versions.map((v) => ({ ...v, manifest: parseManifest(v.manifest, record.name) }));
      } catch (error) {
        throw new L8Error('internal', `the registry file ${path} is unreadable (${(error as Error).message}); fix or remove it`);
      }
      registry.records.set(record.name, record);
    }
    return registry;
  }

  private get modulesDir(): string {
    return join(this.dataDir, 'modules');
  }

  private get functionsDir(): string {
    return join(this.dataDir, 'functions');
  }

  /** Runs registry mutations one at a time. */
  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Stores module bytes under their sha256 (idempotent) and returns the digest. */
  async putModule(bytes: Uint8Array): Promise<string> {
    const digest = sha256(bytes);
    const path = this.modulePath(digest);
    const exists = await stat(path).then(() => true, () => false);
    if (!exists) await writeFileAtomic(path, bytes);
    return digest;
  }

  async hasModule(digest: string): Promise<boolean> {
    return stat(this.modulePath(digest)).then(() => true, () => false);
  }

  readModule(digest: string): Promise<Uint8Array> {
    return readStoredModule(this.dataDir, digest);
  }

  private modulePath(digest: string): string {
    return storedModulePath(this.dataDir, digest);
  }

  list(): FunctionRecord[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): FunctionRecord | undefined {
    return this.records.get(name);
  }

  activeVersion(name: string): FunctionVersion | undefined {
    const record = this.records.get(name);
    return record?.versions.find((v) => v.version === record.active);
  }

  /** Manifests are stored in their written form and parsed again on load. */
  private async save(record: FunctionRecord): Promise<void> {
    const stored = { ...record, versions: record.versions.map((v) => ({ ...v, manifest: manifestInput(v.manifest) })) };
    await writeFileAtomic(join(this.functionsDir, `${record.name}.json`), `${JSON.stringify(stored, null, 2)}\n`);
  }

  /**
   * Deploys `manifest` with module `digest` as a new version and makes it active.
   * Deploying what is already active changes nothing (`changed: false`).
   */
  deploy(manifest: Manifest, digest: string, activate: Activate): Promise<{ version: FunctionVersion; changed: boolean }> {
    return this.serial(async () => {
      if (!(await this.hasModule(digest))) {
        throw new L8Error('not_found', `no module with sha256 ${digest} was uploaded; upload it first`);
      }
      const record = this.records.get(manifest.name);
      const current = record?.versions.find((v) => v.version === record.active);
      if (current && current.sha256 === digest && manifestKey(current.manifest) === manifestKey(manifest)) {
        return { version: current, changed: false };
      }
      const nextNumber = (record?.versions.reduce((max, v) => Math.max(max, v.version), 0) ?? 0) + 1;
      const version: FunctionVersion = { version: nextNumber, sha256: digest, manifest, deployedAt: new Date().toISOString() };
      await activate(manifest.name, version);
      const updated: FunctionRecord = {
        name: manifest.name,
        active: version.version,
        versions: [...(record?.versions ?? []), version].slice(-KEEP_VERSIONS),
      };
      await this.save(updated);
      this.records.set(updated.name, updated);
      return { version, changed: true };
    });
  }

  /** Makes the version before the active one active again. */
  rollback(name: string, activate: Activate): Promise<FunctionVersion> {
    return this.serial(async () => {
      const record = this.require(name);
      const index = record.versions.findIndex((v) => v.version === record.active);
      const previous = record.versions[index - 1];
      if (!previous) {
        throw new L8Error('conflict', `function "${name}" has no version before v${record.active} to roll back to`);
      }
      await activate(name, previous);
      const updated = { ...record, active: previous.version };
      await this.save(updated);
      this.records.set(name, updated);
      return previous;
    });
  }

  /** Removes a function and all its versions. */
  remove(name: string, activate: Activate): Promise<void> {
    return this.serial(async () => {
      this.require(name);
      await activate(name, null);
      await rm(join(this.functionsDir, `${name}.json`), { force: true });
      this.records.delete(name);
      await this.collectModules();
    });
  }

  private require(name: string): FunctionRecord {
    if (!FUNCTION_NAME.test(name)) throw new L8Error('bad_request', `"${name}" is not a valid function name`);
    const record = this.records.get(name);
    if (!record) throw new L8Error('not_found', `no function named "${name}" is deployed (see l8 list)`);
    return record;
  }

  /** Deletes module files that no kept version refers to. */
  private async collectModules(): Promise<void> {
    const used = new Set([...this.records.values()].flatMap((r) => r.versions.map((v) => v.sha256)));
    for (const file of await readdir(this.modulesDir)) {
      const digest = file.replace(/\.wasm$/, '');
      if (file.endsWith('.wasm') && !used.has(digest)) await rm(join(this.modulesDir, file), { force: true });
    }
  }
}
