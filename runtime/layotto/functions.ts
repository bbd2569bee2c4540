// Installing, updating and uninstalling functions the Layotto way (a .wasm path, an
// instance count), through the same Deployer as every other deploy path, so the module is
// checked, stored as an immutable version and activated atomically. A Layotto function's
// L8 name comes from the id its module reports (proxy_get_id), mapped by
// functionNameForId ("id_1" -> "id-1").
import type { Logger } from 'pino';
import { L8Error } from '../../host/errors.ts';
import { compileFunction, sha256 } from '../../host/module-forms.ts';
import { isProxyWasm } from '../../host/proxy-wasm/form.ts';
import { FunctionIdError, functionNameForId } from '../../host/proxy-wasm/function-id.ts';
import { abiVersionOf } from '../../host/proxy-wasm/module-check.ts';
import { manifestInput, parseManifest, type Manifest } from '../../functions/manifest.ts';
import { readModuleFile } from '../deployer.ts';
import type { Runtime } from '../runtime.ts';

export interface LayottoFunctionOptions {
  grants: { state: string[]; invoke: string[] };
  limits: { timeoutMs?: number; memoryMb?: number };
  reuse: boolean;
}

export interface InstallRequest {
  /** The name given in the install body or config entry (Layotto routes by the module's id). */
  name?: string;
  instanceNum: number | null;
  path: string;
}

export interface InstallResult {
  id: string;
  function: string;
  version: number;
  changed: boolean;
}

export class LayottoFunctions {
  private readonly runtime: Runtime;
  private readonly options: LayottoFunctionOptions;
  private readonly logger: Logger;
  /** Install names that differ from the module's id, so uninstall/update by that name work too. */
  private readonly aliases = new Map<string, string>();

  constructor(runtime: Runtime, options: LayottoFunctionOptions, logger: Logger) {
    this.runtime = runtime;
    this.options = options;
    this.logger = logger;
  }

  /** Reads a module and finds the id it names itself with (by starting it once). */
  private async identify(path: string, what: string): Promise<{ bytes: Uint8Array; id: string; name: string }> {
    const bytes = await readModuleFile(path, what);
    if (abiVersionOf(bytes) === null) {
      throw new L8Error('invalid_module', `${path} is not a proxy-wasm module (it exports no proxy_abi_version_*); the Layotto endpoints install Layotto's proxy-wasm functions; deploy L8 functions with "l8 deploy"`);
    }
    const memoryMb = this.options.limits.memoryMb ?? this.runtime.config.limits.memoryMb;
    const compiled = await compileFunction(bytes, { maxMemoryPages: Math.ceil((memoryMb * (1 << 20)) / 65536), sha256: sha256(bytes) });
    if (!isProxyWasm(compiled)) throw new L8Error('internal', `${path} was not compiled as a proxy-wasm module`);
    const id = compiled.proxyId;
    if (!id) {
      throw new L8Error('invalid_module', `${path} does not name itself: it must export proxy_get_id and write its id into the CallData buffer (type 8), as Layotto's functions do, since Layotto routes requests by that id`);
    }
    try {
      return { bytes, id, name: functionNameForId(id) };
    } catch (error) {
      if (error instanceof FunctionIdError) throw new L8Error('invalid_module', `${path}: ${error.message}`);
      throw error;
    }
  }

  private manifest(name: string, instanceNum: number | null): Manifest {
    const limits: Record<string, number> = { ...this.options.limits };
    // Layotto runs instance_num instances, each serving one request at a time.
    if (instanceNum !== null) limits.maxConcurrency = instanceNum;
    return parseManifest({ name, capabilities: { state: this.options.grants.state, invoke: this.options.grants.invoke }, limits, reuse: this.options.reuse });
  }

  /** A deployed function that is a proxy-wasm function with this id (or none), else a conflict. */
  private existing(name: string, id: string): boolean {
    const live = this.runtime.table.get(name);
    if (live) {
      const compiled = live.loaded.compiled;
      if (!isProxyWasm(compiled)) throw new L8Error('conflict', `function "${name}" (the L8 name of id "${id}") is already deployed and is not a proxy-wasm function; remove it first ("l8 rm ${name}")`);
      if (compiled.proxyId !== id) throw new L8Error('conflict', `function "${name}" is already deployed with id "${compiled.proxyId}", which maps to the same L8 name as "${id}"; remove it first or give one of the modules another id`);
      return true;
    }
    return this.runtime.registry.get(name) !== undefined;
  }

  /**
   * Installs a function. `replace` false (the /wasm/install endpoint) refuses an id that is
   * already installed, like Layotto; true (a Layotto config at start) deploys a new version
   * only when the module or settings changed.
   */
  async install(request: InstallRequest, replace: boolean): Promise<InstallResult> {
    const { bytes, id, name } = await this.identify(request.path, request.name ?? request.path);
    if (this.existing(name, id) && !replace) {
      throw new L8Error('conflict', `${id} is already registered (as function "${name}"); use /wasm/update to change its instances or /wasm/uninstall first`);
    }
    if (request.name && request.name !== id && request.name !== name) {
      this.aliases.set(request.name, name);
      if (!replace) this.logger.warn({ id, name: request.name, fn: name }, `installed "${request.name}", whose module names itself "${id}": requests route by "id: ${id}" (function "${name}"), as in Layotto`);
    }
    const sha = await this.runtime.deployer.upload(bytes);
    const result = await this.runtime.deployer.deploy(this.manifest(name, request.instanceNum), sha);
    return { id, function: name, version: result.version, changed: result.changed };
  }

  /** The installed function a Layotto name (its id, an install name, or its L8 name) refers to. */
  resolve(nameOrId: string): string {
    const alias = this.aliases.get(nameOrId);
    if (alias) return alias;
    let name: string;
    try {
      name = functionNameForId(nameOrId);
    } catch (error) {
      throw new L8Error('bad_request', (error as Error).message);
    }
    if (!this.runtime.registry.get(name)) throw new L8Error('not_found', `${nameOrId} is not registered: no function with that id is installed`);
    const live = this.runtime.table.get(name);
    if (live && !isProxyWasm(live.loaded.compiled)) {
      throw new L8Error('conflict', `function "${name}" is an L8 function, not one installed the Layotto way; manage it with the l8 CLI`);
    }
    return name;
  }

  /** Layotto's update: a new instance count (and, in L8, optionally a new module file). */
  async update(nameOrId: string, instanceNum: number, path?: string): Promise<InstallResult> {
    const name = this.resolve(nameOrId);
    const active = this.runtime.registry.activeVersion(name);
    if (!active) throw new L8Error('not_found', `${nameOrId} has no active version`);
    let sha = active.sha256;
    const live = this.runtime.table.get(name);
    let id = live && isProxyWasm(live.loaded.compiled) ? (live.loaded.compiled.proxyId ?? nameOrId) : nameOrId;
    if (path) {
      const next = await this.identify(path, nameOrId);
      if (next.name !== name) throw new L8Error('conflict', `${path} names itself "${next.id}", not "${id}"; install it as a new function instead`);
      id = next.id;
      sha = await this.runtime.deployer.upload(next.bytes);
    }
    const manifest = parseManifest({ ...manifestInput(active.manifest), limits: { ...active.manifest.limits, maxConcurrency: instanceNum } });
    const result = await this.runtime.deployer.deploy(manifest, sha);
    return { id, function: name, version: result.version, changed: result.changed };
  }

  async uninstall(nameOrId: string): Promise<{ function: string }> {
    const name = this.resolve(nameOrId);
    await this.runtime.deployer.remove(name);
    for (const [alias, target] of this.aliases) if (target === name) this.aliases.delete(alias);
    return { function: name };
  }
}
