import { describe, expect, it } from 'vitest';
import { EnvSecretStore, envSecretsFromSpec } from './env.ts';
import { secretsContract } from './contract.test-kit.ts';

const withPrefix = (prefix: string, secrets: Record<string, string>) => Object.fromEntries(Object.entries(secrets).map(([k, v]) => [prefix + k, v]));

secretsContract('env', async (secrets) => new EnvSecretStore({ prefix: 'L8_SECRET_', env: { ...withPrefix('L8_SECRET_', secrets), PATH: '/bin', L8_ADMIN_TOKEN: 'not-a-secret' } }));

describe('env secret store', () => {
  it('hands out only variables with its prefix, without the prefix', async () => {
    const store = new EnvSecretStore({ prefix: 'L8_SECRET_', env: { L8_SECRET_A: '1', L8_ADMIN_TOKEN: 't', PATH: '/bin', L8_SECRET_: 'nameless' } });
    expect(await store.bulkGet()).toEqual({ A: { A: '1' } });
    expect(await store.get('L8_ADMIN_TOKEN')).toBeNull();
    expect(await store.get('PATH')).toBeNull();
  });

  it('sees variables set after it started (the process environment is read at each call)', async () => {
    const store = envSecretsFromSpec('default', { type: 'env', prefix: 'L8_TEST_SECRET_' });
    await store.init();
    expect(await store.get('LATE')).toBeNull();
    process.env.L8_TEST_SECRET_LATE = 'now';
    try {
      expect(await store.get('LATE')).toEqual({ LATE: 'now' });
    } finally {
      delete process.env.L8_TEST_SECRET_LATE;
    }
  });

  it('refuses unknown options by name', () => {
    expect(() => envSecretsFromSpec('default', { type: 'env', prefx: 'X' })).toThrow(/components\.secrets\.default: unknown option "prefx" \(known: prefix\)/);
  });
});
