// The ABI conformance suite (see README.md beside this file): the same behaviours,
// checked against the conformance function of every guest language, each in a real
// runtime process. Test names start with the language, so a failure names both.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntimeProcess, tempDataDir, type RuntimeProcess } from '../support/runtime-process.ts';
import { LANGUAGES, requireBuild, type Language } from '../support/languages.ts';

for (const language of LANGUAGES) {
  describe(`conformance: ${language}`, () => {
    let runtime: RuntimeProcess;
    let url: string;
    const t = (behaviour: string) => `${language}: ${behaviour}`;

    beforeAll(async () => {
      const module = requireBuild(language, 'conformance');
      const dir = tempDataDir('l8-conf-');
      const grants = {
        state: ['default', 'other-allowed'],
        publish: { default: ['conf-events'] },
        config: ['greeting', 'absent-key'],
        invoke: ['conf-target', 'missing-function'],
      };
      const app = {
        functions: {
          conformance: { module, routes: ['ANY /conf/*'], subscriptions: [{ broker: 'default', topic: 'conf-events' }], capabilities: grants },
          'conf-target': { module, capabilities: grants },
        },
      };
      writeFileSync(join(dir, 'app.yaml'), stringify(app));
      writeFileSync(join(dir, 'runtime.yaml'), stringify({
        components: {
          state: { 'other-allowed': { type: 'memory' }, secret: { type: 'memory' } },
          config: { default: { type: 'inline', values: { greeting: 'hello from config', 'not-granted': 'secret' } } },
        },
        delivery: { maxAttempts: 2, backoffMs: 10, maxBackoffMs: 20 },
      }));
      runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')] });
      url = `${runtime.httpUrl}/conf`;
    });
    afterAll(() => runtime?.stop());

    it(t('echoes method, path, query, x-test headers in order, and a binary body'), async () => {
      const body = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) % 256);
      const response = await fetch(`${url}/echo/sub/path?x=1&y=%20z`, {
        method: 'POST',
        headers: { 'x-test-b': 'second', 'x-test-a': 'first', 'content-type': 'application/x-custom', other: 'not echoed' },
        body,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-method')).toBe('POST');
      expect(response.headers.get('x-path')).toBe('/conf/echo/sub/path');
      expect(response.headers.get('x-query')).toBe('x=1&y=%20z');
      expect(response.headers.get('x-body-length')).toBe('1024');
      expect(response.headers.get('x-test-a')).toBe('first');
      expect(response.headers.get('x-test-b')).toBe('second');
      expect(response.headers.get('other')).toBeNull();
      expect(response.headers.get('content-type')).toBe('application/x-custom');
      expect(new Uint8Array(await response.arrayBuffer())).toEqual(body);
    });

    it(t('echoes an empty body'), async () => {
      const response = await fetch(`${url}/echo`, { method: 'PUT', body: new Uint8Array(0) });
      expect(response.headers.get('x-body-length')).toBe('0');
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect((await response.arrayBuffer()).byteLength).toBe(0);
    });

    it(t('echoes a 10 MB body'), async () => {
      const body = Uint8Array.from({ length: 10 << 20 }, (_, i) => (i * 31 + 7) & 0xff);
      const response = await fetch(`${url}/echo`, { method: 'POST', body });
      expect(response.status).toBe(200);
      const back = new Uint8Array(await response.arrayBuffer());
      expect(back.length).toBe(body.length);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(body))).toBe(0);
    });

    it(t('answers a large generated body'), async () => {
      const response = await fetch(`${url}/big?size=1000000`);
      const bytes = new Uint8Array(await response.arrayBuffer());
      expect(bytes.length).toBe(1_000_000);
      expect(bytes.every((b, i) => b === i % 251)).toBe(true);
    });

    it(t('speaks non-ASCII text both ways'), async () => {
      const out = await fetch(`${url}/unicode`);
      expect(out.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await out.text()).toBe('héllo wörld ✓ 日本語 🚀');
      const back = await fetch(`${url}/unicode`, { method: 'POST', body: 'ÄÖÜ 🚀 ok' });
      expect(await back.text()).toBe('8:ÄÖÜ 🚀 ok');
    });

    it(t('round-trips state with binary values, and tells missing from empty'), async () => {
      const value = Uint8Array.from({ length: 256 }, (_, i) => i);
      expect((await fetch(`${url}/state/bin`, { method: 'PUT', body: value })).status).toBe(204);
      const got = await fetch(`${url}/state/bin`);
      expect(got.status).toBe(200);
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(value);

      const missing = await fetch(`${url}/state/never-set`);
      expect([missing.status, await missing.text()]).toEqual([404, 'missing']);

      expect((await fetch(`${url}/state/empty`, { method: 'PUT', body: '' })).status).toBe(204);
      const empty = await fetch(`${url}/state/empty`);
      expect([empty.status, (await empty.arrayBuffer()).byteLength]).toEqual([200, 0]);

      expect((await fetch(`${url}/state/bin`, { method: 'DELETE' })).status).toBe(204);
      expect((await fetch(`${url}/state/bin`)).status).toBe(404);

      expect((await fetch(`${url}/state/k?store=other-allowed`, { method: 'PUT', body: 'x' })).status).toBe(204);
      expect(await (await fetch(`${url}/state/k?store=other-allowed`)).text()).toBe('x');
    });

    it(t('denies a state store the manifest does not grant'), async () => {
      const response = await fetch(`${url}/state/k?store=secret`);
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('denied: state store "secret" is not granted to function "conformance"; add it to capabilities.state in its manifest');
    });

    it(t('reads config that is present, absent, and not granted'), async () => {
      const present = await fetch(`${url}/config/greeting`);
      expect([present.status, await present.text()]).toEqual([200, 'hello from config']);
      const absent = await fetch(`${url}/config/absent-key`);
      expect([absent.status, await absent.text()]).toEqual([404, 'absent']);
      const denied = await fetch(`${url}/config/not-granted`);
      expect(denied.status).toBe(403);
      expect(await denied.text()).toMatch(/^denied: config key "not-granted" is not granted/);
    });

    it(t('publishes, gets a message id, and its subscriber receives the message'), async () => {
      const published = await fetch(`${url}/publish/conf-events`, { method: 'POST', body: 'payload-1' });
      expect(published.status).toBe(200);
      const id = await published.text();
      expect(id).toMatch(/\S+/);
      let received: Response | undefined;
      for (let i = 0; i < 50; i++) {
        received = await fetch(`${url}/state/received/conf-events/${id}`);
        if (received.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await received!.text()).toBe('payload-1');
    });

    it(t('denies publishing to a topic the manifest does not grant'), async () => {
      const response = await fetch(`${url}/publish/other-topic`, { method: 'POST', body: 'x' });
      expect(response.status).toBe(403);
      expect(await response.text()).toMatch(/^denied: publishing to topic "other-topic" on broker "default" is not granted/);
    });

    it(t('dead-letters a message whose subscriber keeps failing, with the error'), async () => {
      const published = await fetch(`${url}/publish/conf-events`, { method: 'POST', body: 'doomed', headers: { 'x-meta-fail': 'always' } });
      const id = await published.text();
      let logs = '';
      for (let i = 0; i < 50 && !logs.includes(`message ${id}`); i++) {
        await new Promise((r) => setTimeout(r, 100));
        logs = (await runtime.cli(['logs', 'conformance', '--json'])).stdout;
      }
      expect(logs).toContain(`message ${id} of topic \\"conf-events\\" failed 2 times and was moved to \\"conf-events.dlq\\"`);
      expect(logs).toContain(`asked to fail: ${id}`);
    });

    it(t('invokes another function and gets its response'), async () => {
      const response = await fetch(`${url}/invoke/conf-target?path=/conf/echo/x&method=PUT`, { method: 'POST', headers: { 'x-test-k': 'v' }, body: 'through invoke' });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-invoked')).toBe('conf-target');
      expect(response.headers.get('x-test-k')).toBe('v');
      expect(await response.text()).toBe('through invoke');
      const status = await fetch(`${url}/invoke/conf-target?path=/conf/status/418&method=GET`);
      expect([status.status, await status.text()]).toEqual([418, 'status 418']);
    });

    it(t('gets an error when the invoke target is missing or not granted'), async () => {
      const missing = await fetch(`${url}/invoke/missing-function`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('not-found: no function named "missing-function" is deployed');
      const denied = await fetch(`${url}/invoke/secret-function`);
      expect(denied.status).toBe(403);
      expect(await denied.text()).toMatch(/^denied: invoking function "secret-function" is not granted to function "conformance"/);
    });

    it(t('turns a trap into 500 with a JSON error, and keeps serving'), async () => {
      const response = await fetch(`${url}/trap`);
      expect(response.status).toBe(500);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('trap');
      expect((await fetch(`${url}/status/200`)).status).toBe(200);
    });

    it(t('captures stdout and stderr as log lines'), async () => {
      const response = await fetch(`${url}/stdout`);
      expect([response.status, await response.text()]).toEqual([200, 'printed']);
      const lines = (await runtime.cli(['logs', 'conformance', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: string; level: string; message: string; requestId: string });
      const out = lines.find((l) => l.message === 'conformance stdout line');
      const err = lines.find((l) => l.message === 'conformance stderr line');
      expect(out).toMatchObject({ source: 'stdout', level: 'info', requestId: response.headers.get('l8-request-id') });
      expect(err).toMatchObject({ source: 'stderr', level: 'warn' });
    });

    it(t('writes through the log import'), async () => {
      const response = await fetch(`${url}/log`);
      expect(await response.text()).toBe('logged');
      const logs = (await runtime.cli(['logs', 'conformance', '--json'])).stdout;
      expect(logs).toContain('"source":"log","message":"conformance log line"');
    });

    it(t('answers any status it chooses'), async () => {
      const response = await fetch(`${url}/status/418`);
      expect([response.status, await response.text()]).toEqual([418, 'status 418']);
    });

    it(t('starts every request from fresh state'), async () => {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await (await fetch(`${url}/global`)).text());
      expect(answers).toEqual(['1', '1', '1']);
    });

    it(t('answers 404 for a path it does not know'), async () => {
      const response = await fetch(`${url}/unknown-thing`);
      expect([response.status, await response.text()]).toEqual([404, 'no route GET /conf/unknown-thing']);
    });
  });
}

describe('cross-language: the demo with its functions from different languages', () => {
  let runtime: RuntimeProcess;
  const pairs = LANGUAGES.flatMap((stockLang) => LANGUAGES.map((inventoryLang) => ({ stockLang, inventoryLang })));

  beforeAll(async () => {
    runtime = await startRuntimeProcess();
  });
  afterAll(() => runtime?.stop());

  for (const { stockLang, inventoryLang } of pairs) {
    it(`${inventoryLang} inventory invoking ${stockLang} stock answers like the AssemblyScript demo`, async () => {
      // inventory always invokes the function named "stock": deploy the pair's modules
      // under those names, then ask.
      const deploy = async (name: string, lang: string, extra: string[]) => {
        const result = await runtime.cli(['deploy', requireBuild(lang as Language, name), '--name', name, ...extra]);
        expect(result.stderr).toBe('');
      };
      await deploy('stock', stockLang, ['--route', 'GET /stock/:name', '--route', 'PUT /stock/:name', '--state', 'default', '--publish', 'default/stock-changed']);
      await deploy('inventory', inventoryLang, ['--route', 'GET /inventory', '--invoke', 'stock']);
      const count = String(100 + LANGUAGES.indexOf(stockLang) * 10 + LANGUAGES.indexOf(inventoryLang));
      const put = await fetch(`${runtime.httpUrl}/stock/book1`, { method: 'PUT', body: count });
      expect([put.status, await put.text()]).toEqual([200, count]);
      expect(await (await fetch(`${runtime.httpUrl}/inventory?name=book1`)).text()).toBe(`There are ${count} inventories for book1.`);
      const none = await fetch(`${runtime.httpUrl}/inventory?name=nothing-${count}`);
      expect([none.status, await none.text()]).toEqual([404, `There is no inventory for nothing-${count}.`]);
      const bad = await fetch(`${runtime.httpUrl}/inventory`);
      expect([bad.status, await bad.text()]).toEqual([400, "missing query parameter 'name'"]);
    });
  }
});

