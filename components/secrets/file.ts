// Secrets from a JSON or YAML file (Dapr's local.file), for development and for secrets
// mounted into a container as a file. The file is read again whenever it changes, so a
// rotated secret is served without a restart. Nested maps are flattened with
// `nestedSeparator` ({ db: { password: x } } is the secret "db:password"), unless
// `multiValued` is set: then each top-level key is one secret whose values are its map.
import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import { ComponentError, type ComponentHealth } from '../errors.ts';
import { checkKnown, specBoolean, specString, type Spec } from '../spec.ts';
import type { SecretStore, SecretValues } from './contract.ts';

export interface FileSecretOptions {
  path: string;
  nestedSeparator?: string;
  multiValued?: boolean;
}

function flatten(input: Record<string, unknown>, separator: string, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(input)) {
    const name = prefix ? `${prefix}${separator}${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, separator, name, out);
    else out[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

export class FileSecretStore implements SecretStore {
  readonly kind = 'file';
  private readonly options: Required<FileSecretOptions>;
  private secrets: Record<string, SecretValues> = {};
  private loadedVersion = '';

  constructor(options: FileSecretOptions) {
    this.options = { nestedSeparator: ':', multiValued: false, ...options };
  }

  async init(): Promise<void> {
    await this.load();
  }

  /** Rereads the file when its size or modification time changed. */
  private async load(): Promise<Record<string, SecretValues>> {
    const { path } = this.options;
    let version: string;
    try {
      const info = await stat(path);
      version = `${info.mtimeMs}:${info.size}:${info.ino}`;
    } catch (error) {
      throw new ComponentError('unavailable', `secrets file ${path} cannot be read: ${(error as Error).message}; check the "path" of this secret store`, { cause: error });
    }
    if (version === this.loadedVersion) return this.secrets;
    let parsed: unknown;
    try {
      const text = await readFile(path, 'utf8');
      parsed = text.trim() === '' ? {} : parse(text);
    } catch (error) {
      throw new ComponentError('unavailable', `secrets file ${path} is not valid JSON or YAML: ${(error as Error).message}`, { cause: error });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ComponentError('unavailable', `secrets file ${path} must hold a map of secret names to values`);
    }
    const next: Record<string, SecretValues> = {};
    if (this.options.multiValued) {
      for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
        next[name] = value !== null && typeof value === 'object' && !Array.isArray(value)
          ? flatten(value as Record<string, unknown>, this.options.nestedSeparator)
          : { [name]: typeof value === 'string' ? value : JSON.stringify(value) };
      }
    } else {
      for (const [name, value] of Object.entries(flatten(parsed as Record<string, unknown>, this.options.nestedSeparator))) next[name] = { [name]: value };
    }
    this.secrets = next;
    this.loadedVersion = version;
    return next;
  }

  async health(): Promise<ComponentHealth> {
    try {
      await this.load();
      return { status: 'UP' };
    } catch (error) {
      return { status: 'DOWN', reason: (error as Error).message };
    }
  }

  async close(): Promise<void> {}

  async get(name: string): Promise<SecretValues | null> {
    if (!name) throw new ComponentError('invalid', 'secret name must not be empty');
    const secrets = await this.load();
    return Object.hasOwn(secrets, name) ? { ...secrets[name] } : null;
  }

  async bulkGet(): Promise<Record<string, SecretValues>> {
    const secrets = await this.load();
    return Object.fromEntries(Object.entries(secrets).map(([name, values]) => [name, { ...values }]));
  }
}

export function fileSecretsFromSpec(name: string, spec: Spec, resolvePath: (value: unknown) => string): FileSecretStore {
  const where = `components.secrets.${name}`;
  checkKnown(spec, where, ['path', 'nestedSeparator', 'multiValued']);
  const path = specString(spec, 'path', where);
  if (!path) throw new ComponentError('invalid', `${where}: a secrets store of type file needs a "path" (a JSON or YAML file of secret names to values)`);
  return new FileSecretStore({
    path: resolvePath(path),
    nestedSeparator: specString(spec, 'nestedSeparator', where) ?? ':',
    multiValued: specBoolean(spec, 'multiValued', where) ?? false,
  });
}
