import { mkdtempSync, rmSync, writeFileSync, renameSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually, rejectsWith } from '../contract-kit.ts';
import { configContract } from './contract.test-kit.ts';
import type { ConfigStore } from './contract.ts';
import { FileConfigStore } from './file.ts';

const dir = mkdtempSync(join(tmpdir(), 'l8-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const paths = new WeakMap<ConfigStore, string>();

configContract(
  'file',
  async (initial) => {
    const path = join(dir, `config-${files++}.yaml`);
    writeFileSync(path, stringify(initial));
    const store = new FileConfigStore({ path, reloadDelayMs: 20 });
    paths.set(store, path);
    return store;
  },
  {
    // An operator edits the file: written next to it and renamed over it, as editors do.
    changeSource: async (store, values) => {
      const path = paths.get(store)!;
      await writeFile(`${path}.tmp`, stringify(values));
      renameSync(`${path}.tmp`, path);
    },
  },
);

describe('file config store', () => {
  it('reads nested YAML as dotted keys', async () => {
    const path = join(dir, 'nested.yaml');
    writeFileSync(path, 'db:\n  host: h\n  port: 5432\nflags: [a, b]\n');
    const store = new FileConfigStore({ path });
    await store.init();
    expect(Object.fromEntries(store.entries())).toEqual({ 'db.host': 'h', 'db.port': '5432', flags: '["a","b"]' });
    await store.close();
  });

  it('keeps the last good values when the file stops parsing, and says so in health', async () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'a: "1"\n');
    const store = new FileConfigStore({ path, reloadDelayMs: 20 });
    await store.init();
    const reloaded = new Promise<string | null>((resolve) => store.afterReload(resolve));
    writeFileSync(path, 'a: [unclosed\n');
    expect(await reloaded).toMatch(/previous values stay in force/);
    expect(store.get('a')).toBe('1');
    expect((await store.health()).reason).toMatch(/last reload failed/);
    writeFileSync(path, 'a: "2"\n');
    await eventually(() => expect(store.get('a')).toBe('2'), 3000);
    await store.close();
  });

  it('fails init naming the file when it cannot be read', async () => {
    const store = new FileConfigStore({ path: join(dir, 'missing.yaml') });
    const error = await rejectsWith(store.init(), 'unavailable');
    expect(error.message).toContain('missing.yaml');
  });

  it('writes set values through to the file', async () => {
    const path = join(dir, 'written.yaml');
    writeFileSync(path, 'a: "1"\n');
    const store = new FileConfigStore({ path });
    await store.init();
    await store.set({ b: '2' });
    expect(readFileSync(path, 'utf8')).toMatch(/b: "2"/);
    await store.close();
  });
});
