// `l8 build` before componentize-js runs: which world a module is built for, and the
// inputs it refuses with a message. (The builds themselves run in `npm run
// build:examples`, whose components the conformance suite deploys.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/support/runtime-process.ts';
import { buildJavaScript, detectWorld } from './build.ts';

describe('world detection', () => {
  it('picks the l8:faas world from the exports', () => {
    expect(detectWorld('export const httpHandler = http(() => r);', 'a.js')).toBe('http-function');
    expect(detectWorld('export const subscriber = subscriber(() => {});', 'a.js')).toBe('subscriber-function');
    expect(detectWorld('const httpHandler = 1; const subscriber = 2;\nexport { httpHandler, subscriber };', 'a.js')).toBe('function');
    expect(detectWorld('export function httpHandler() {}\nexport let subscriber = {};', 'a.js')).toBe('function');
  });

  it('builds a fetch event handler as a wasi:http component', () => {
    expect(detectWorld("addEventListener('fetch', (e) => e.respondWith(new Response('hi')));", 'a.js')).toBe('wasi-http');
  });

  it('says what to export when it finds no entry point', () => {
    expect(() => detectWorld('export const handler = {};', 'fn.js')).toThrow(/fn.js exports neither "httpHandler" nor "subscriber" and handles no "fetch" event/);
  });
});

describe('inputs it refuses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'l8-build-test-'));

  it('refuses to bundle npm packages, naming the import and what to do', async () => {
    writeFileSync(join(dir, 'uses-lodash.js'), "import _ from 'lodash';\nexport const httpHandler = { handle() {} };\n");
    await expect(buildJavaScript({ entry: join(dir, 'uses-lodash.js'), out: join(dir, 'x.wasm') })).rejects.toThrow(
      /imports "lodash": l8 build does not bundle packages; bundle the function first/,
    );
  });

  it('names TypeScript it cannot strip', async () => {
    writeFileSync(join(dir, 'enum.ts'), 'enum Color { Red }\nexport const httpHandler = { handle() { return Color.Red; } };\n');
    await expect(buildJavaScript({ entry: join(dir, 'enum.ts'), out: join(dir, 'x.wasm') })).rejects.toThrow(/enum.ts: .*erasable syntax only/);
  });

  it('l8 build refuses an unknown world and a missing file', async () => {
    const world = await runCli(['build', join(dir, 'uses-lodash.js'), '--world', 'proxy']);
    expect([world.code, world.stderr]).toEqual([1, expect.stringContaining('--world must be one of http-function, subscriber-function, function, wasi-http, got "proxy"')]);
    const missing = await runCli(['build', join(dir, 'nothing.js')]);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/cannot read .*nothing.js/)]);
  });
});
