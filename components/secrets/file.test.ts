import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejectsWith } from '../contract-kit.ts';
import { FileSecretStore, fileSecretsFromSpec } from './file.ts';
import { secretsContract } from './contract.test-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'l8-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const file = (content: string) => {
  const path = join(dir, `secrets-${files++}.yaml`);
  writeFileSync(path, content);
  return path;
};

secretsContract('file (JSON)', async (secrets) => new FileSecretStore({ path: file(JSON.stringify(secrets)) }));

describe('file secret store', () => {
  it('flattens nested maps with the separator, or keeps them as one secret with multiValued', async () => {
    const path = file('db:\n  user: app\n  password: pw\ntoken: t\nport: 5432\n');
    const flat = new FileSecretStore({ path });
    await flat.init();
    expect(await flat.get('db:password')).toEqual({ 'db:password': 'pw' });
    expect(await flat.get('port')).toEqual({ port: '5432' });
    const dotted = new FileSecretStore({ path, nestedSeparator: '.' });
    expect(await dotted.get('db.user')).toEqual({ 'db.user': 'app' });
    const multi = new FileSecretStore({ path, multiValued: true });
    expect(await multi.get('db')).toEqual({ user: 'app', password: 'pw' });
    expect(await multi.get('token')).toEqual({ token: 't' });
    expect(Object.keys(await multi.bulkGet()).sort()).toEqual(['db', 'port', 'token']);
  });

  it('serves a rotated secret without a restart', async () => {
    const path = file('token: one\n');
    const store = new FileSecretStore({ path });
    await store.init();
    expect(await store.get('token')).toEqual({ token: 'one' });
    writeFileSync(path, 'token: two-and-longer\n');
    expect(await store.get('token')).toEqual({ token: 'two-and-longer' });
  });

  it('fails init naming the file when it is missing, and reports DOWN when it breaks later', async () => {
    const missing = new FileSecretStore({ path: join(dir, 'nope.json') });
    const error = await rejectsWith(missing.init(), 'unavailable');
    expect(error.message).toContain(join(dir, 'nope.json'));
    const path = file('a: 1\n');
    const store = new FileSecretStore({ path });
    await store.init();
    writeFileSync(path, '- just\n- a list\n');
    expect(await store.health()).toMatchObject({ status: 'DOWN', reason: expect.stringContaining('map of secret names') });
    await rejectsWith(store.get('a'), 'unavailable');
  });

  it('needs a path and refuses unknown options', () => {
    expect(() => fileSecretsFromSpec('vault', { type: 'file' }, String)).toThrow(/components\.secrets\.vault: a secrets store of type file needs a "path"/);
    expect(() => fileSecretsFromSpec('vault', { type: 'file', path: 'x', multivalued: true }, String)).toThrow(/unknown option "multivalued"/);
  });
});
