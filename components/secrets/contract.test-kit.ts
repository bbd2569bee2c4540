// The secrets contract: what every secret store must do, as vitest tests.
//
//   secretsContract('env', async (secrets) => new EnvSecretStore({ prefix: 'X_', env: toEnv(secrets) }));
//
// `factory` gets the single-valued secrets the store must hold and returns a new store
// that is not initialised yet; the kit calls init() and close().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectsWith } from '../contract-kit.ts';
import type { SecretStore } from './contract.ts';

export const CONTRACT_SECRETS: Record<string, string> = {
  'db-password': 's3cret',
  API_KEY: 'k-123',
  'with spaces and ünïcode': 'välue with "quotes" and \n a newline',
  empty: '',
};

export function secretsContract(name: string, factory: (secrets: Record<string, string>) => Promise<SecretStore>): void {
  describe(`secrets contract: ${name}`, () => {
    let store: SecretStore;

    beforeAll(async () => {
      store = await factory(CONTRACT_SECRETS);
      await store.init();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('names its kind and reports UP after init', async () => {
      expect(store.kind.length).toBeGreaterThan(0);
      expect(await store.health()).toMatchObject({ status: 'UP' });
    });

    it('returns a secret as a map holding its value under its own name', async () => {
      for (const [secret, value] of Object.entries(CONTRACT_SECRETS)) {
        expect(await store.get(secret)).toEqual({ [secret]: value });
      }
    });

    it('returns null for a secret it does not hold', async () => {
      expect(await store.get('no-such-secret')).toBeNull();
    });

    it('refuses an empty secret name', async () => {
      await rejectsWith(store.get(''), 'invalid');
    });

    it('lists every secret in bulk', async () => {
      const all = await store.bulkGet();
      for (const [secret, value] of Object.entries(CONTRACT_SECRETS)) expect(all[secret]).toEqual({ [secret]: value });
    });

    it('hands out copies the caller may change', async () => {
      const first = (await store.get('API_KEY'))!;
      first.API_KEY = 'changed';
      expect(await store.get('API_KEY')).toEqual({ API_KEY: 'k-123' });
    });

    it('can be closed twice', async () => {
      const other = await factory({});
      await other.init();
      await other.close();
      await expect(other.close()).resolves.toBeUndefined();
    });
  });
}
