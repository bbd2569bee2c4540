// Secrets from the runtime's environment variables (Dapr's local.env). Only variables
// whose name starts with `prefix` are secrets, and the prefix is not part of the secret's
// name: with prefix L8_SECRET_, the variable L8_SECRET_DB_PASSWORD is the secret
// DB_PASSWORD. The embedded default store uses that prefix so that the runtime's own
// settings (admin token, Redis passwords) are never handed to apps by accident.
import { ComponentError, type ComponentHealth } from '../errors.ts';
import { checkKnown, specString, type Spec } from '../spec.ts';
import type { SecretStore, SecretValues } from './contract.ts';

export interface EnvSecretOptions {
  /** Only variables starting with this are secrets; '' exposes every variable. */
  prefix: string;
  /** Read at every call, so variables set after start are seen (tests set their own). */
  env?: NodeJS.ProcessEnv;
}

export class EnvSecretStore implements SecretStore {
  readonly kind = 'env';
  private readonly prefix: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: EnvSecretOptions) {
    this.prefix = options.prefix;
    this.env = options.env ?? process.env;
  }

  async init(): Promise<void> {}
  async health(): Promise<ComponentHealth> {
    return { status: 'UP' };
  }
  async close(): Promise<void> {}

  async get(name: string): Promise<SecretValues | null> {
    if (!name) throw new ComponentError('invalid', 'secret name must not be empty');
    const value = this.env[this.prefix + name];
    return value === undefined ? null : { [name]: value };
  }

  async bulkGet(): Promise<Record<string, SecretValues>> {
    const out: Record<string, SecretValues> = {};
    for (const [variable, value] of Object.entries(this.env)) {
      if (value === undefined || !variable.startsWith(this.prefix) || variable.length === this.prefix.length) continue;
      const name = variable.slice(this.prefix.length);
      out[name] = { [name]: value };
    }
    return out;
  }
}

export function envSecretsFromSpec(name: string, spec: Spec): EnvSecretStore {
  const where = `components.secrets.${name}`;
  checkKnown(spec, where, ['prefix']);
  return new EnvSecretStore({ prefix: specString(spec, 'prefix', where) ?? '' });
}
