// The ABI conformance suite (see README.md beside this file): the same behaviours,
// checked against the conformance function of every guest language, each in a real
// runtime process, and on the component path against the Rust modules wrapped into
// components and the wasi:http build (the behaviours wasi:http can express). Test names
// start with the language or form, so a failure names both.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../components/redis.test-support.ts';
import { startRuntimeProcess, tempDataDir, type RuntimeProcess } from '../support/runtime-process.ts';
import { COMPONENT_FORMS, LANGUAGES, componentBuild, hasStdio, isWasiHttp, requireBuild, type ComponentForm, type Language } from '../support/languages.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// A runtime compiles and snapshots every module before it serves; with the SDK suites
// compiling in parallel on a 2-core box that has exceeded the 20 s default.
const START_TIMEOUT_MS = 60_000;

/** Status and body of a request, for one-line comparisons. */
async function answer(url: string, init?: RequestInit): Promise<[number, string]> {
  const response = await fetch(url, init);
  return [response.status, await response.text()];
}

/**
 * A file sequencer whose keys already stand where 32 bits end, so the next ids need the
 * high half of the u64 (the same SQLite table components/sequencer/file.ts creates).
 */
const SEEDED_IDS: Record<string, bigint> = { 'conf-wide': 2n ** 32n - 1n, 'conf-huge': 2n ** 62n + 1234n };
function seededSequencer(path: string): void {
  const db = new DatabaseSync(path);
  db.exec('CREATE TABLE IF NOT EXISTS sequences (key TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  const insert = db.prepare('INSERT INTO sequences (key, value) VALUES (?, ?)');
  for (const [key, value] of Object.entries(SEEDED_IDS)) insert.run(key, value);
  db.close();
}

for (const language of [...LANGUAGES, ...COMPONENT_FORMS] as Array<Language | ComponentForm>) {
  describe(`conformance: ${language}`, () => {
    let runtime: RuntimeProcess;
    let url: string;
    const t = (behaviour: string) => `${language}: ${behaviour}`;
    // A wasi:http component has no l8:faas imports and no subscriber: only the behaviours
    // plain HTTP can express are checked for it (see README.md).
    const wasiHttp = isWasiHttp(language);
    const l8 = wasiHttp ? () => {} : it;
    const stdio = hasStdio(language) ? it : () => {};

    beforeAll(async () => {
      const dir = tempDataDir('l8-conf-');
      const module = (COMPONENT_FORMS as string[]).includes(language) ? await componentBuild(language as ComponentForm, dir) : requireBuild(language as Language, 'conformance');
      const grants = {
        state: ['default', 'other-allowed'],
        publish: { default: ['conf-events'] },
        config: ['greeting', 'absent-key'],
        invoke: ['conf-target', 'missing-function'],
        lock: ['default'],
        sequencer: ['default'],
      };
      const app = {
        functions: {
          conformance: { module, routes: ['ANY /conf/*'], subscriptions: wasiHttp ? [] : [{ broker: 'default', topic: 'conf-events' }], capabilities: grants },
          'conf-target': { module, capabilities: grants },
        },
      };
      writeFileSync(join(dir, 'app.yaml'), stringify(app));
      seededSequencer(join(dir, 'sequencer.sqlite'));
      writeFileSync(join(dir, 'runtime.yaml'), stringify({
        components: {
          state: { 'other-allowed': { type: 'memory' }, secret: { type: 'memory' } },
          config: { default: { type: 'inline', values: { greeting: 'hello from config', 'not-granted': 'secret' } } },
          lock: { secret: { type: 'memory' } },
          sequencer: { default: { type: 'file', path: join(dir, 'sequencer.sqlite') }, secret: { type: 'memory' } },
        },
        delivery: { maxAttempts: 2, backoffMs: 10, maxBackoffMs: 20 },
      }));
      runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')], timeoutMs: START_TIMEOUT_MS });
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

    l8(t('round-trips state with binary values, and tells missing from empty'), async () => {
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

    l8(t('denies a state store the manifest does not grant'), async () => {
      const response = await fetch(`${url}/state/k?store=secret`);
      expect(response.status).toBe(403);
      expect(await response.text()).toBe('denied: state store "secret" is not granted to function "conformance"; add it to capabilities.state in its manifest');
    });

    l8(t('reads config that is present, absent, and not granted'), async () => {
      const present = await fetch(`${url}/config/greeting`);
      expect([present.status, await present.text()]).toEqual([200, 'hello from config']);
      const absent = await fetch(`${url}/config/absent-key`);
      expect([absent.status, await absent.text()]).toEqual([404, 'absent']);
      const denied = await fetch(`${url}/config/not-granted`);
      expect(denied.status).toBe(403);
      expect(await denied.text()).toMatch(/^denied: config key "not-granted" is not granted/);
    });

    l8(t('publishes, gets a message id, and its subscriber receives the message'), async () => {
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

    l8(t('denies publishing to a topic the manifest does not grant'), async () => {
      const response = await fetch(`${url}/publish/other-topic`, { method: 'POST', body: 'x' });
      expect(response.status).toBe(403);
      expect(await response.text()).toMatch(/^denied: publishing to topic "other-topic" on broker "default" is not granted/);
    });

    l8(t('dead-letters a message whose subscriber keeps failing, with the error'), async () => {
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

    l8(t('invokes another function and gets its response'), async () => {
      const response = await fetch(`${url}/invoke/conf-target?path=/conf/echo/x&method=PUT`, { method: 'POST', headers: { 'x-test-k': 'v' }, body: 'through invoke' });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-invoked')).toBe('conf-target');
      expect(response.headers.get('x-test-k')).toBe('v');
      expect(await response.text()).toBe('through invoke');
      const status = await fetch(`${url}/invoke/conf-target?path=/conf/status/418&method=GET`);
      expect([status.status, await status.text()]).toEqual([418, 'status 418']);
    });

    l8(t('gets an error when the invoke target is missing or not granted'), async () => {
      const missing = await fetch(`${url}/invoke/missing-function`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe('not-found: no function named "missing-function" is deployed');
      const denied = await fetch(`${url}/invoke/secret-function`);
      expect(denied.status).toBe(403);
      expect(await denied.text()).toMatch(/^denied: invoking function "secret-function" is not granted to function "conformance"/);
    });

    l8(t('lock: takes a free lock, is busy for everyone while held (no reentry), keeps alive and unlocks only for its owner'), async () => {
      const lock = (owner: string, method: string, query = '') => answer(`${url}/lock/res-a?owner=${owner}${query}`, { method });
      expect(await lock('alice', 'POST', '&expire=30')).toEqual([200, 'taken']);
      expect(await lock('bob', 'POST')).toEqual([409, 'busy']);
      expect(await lock('alice', 'POST')).toEqual([409, 'busy']);
      expect(await lock('alice', 'PUT', '&expire=30')).toEqual([200, 'alive']);
      expect(await lock('bob', 'PUT')).toEqual([409, 'lost']);
      expect(await lock('bob', 'DELETE')).toEqual([200, 'lock-belongs-to-others']);
      expect(await lock('alice', 'DELETE')).toEqual([200, 'success']);
      expect(await lock('alice', 'DELETE')).toEqual([200, 'lock-does-not-exist']);
      expect(await lock('alice', 'PUT')).toEqual([409, 'lost']);
      expect(await lock('bob', 'POST')).toEqual([200, 'taken']);
      // Resources are independent, and may contain slashes.
      expect(await answer(`${url}/lock/queue/res-a?owner=alice`, { method: 'POST' })).toEqual([200, 'taken']);
      expect(await answer(`${url}/lock/never-taken?owner=alice`, { method: 'DELETE' })).toEqual([200, 'lock-does-not-exist']);
    });

    l8(t('lock: a lease expires unless kept alive'), async () => {
      const lock = (resource: string, owner: string, method: string, query = '') => answer(`${url}/lock/${resource}?owner=${owner}${query}`, { method });
      expect(await lock('lease-short', 'alice', 'POST', '&expire=1')).toEqual([200, 'taken']);
      expect(await lock('lease-kept', 'alice', 'POST', '&expire=1')).toEqual([200, 'taken']);
      expect(await lock('lease-kept', 'alice', 'PUT', '&expire=30')).toEqual([200, 'alive']);
      await sleep(1300);
      expect(await lock('lease-short', 'alice', 'PUT')).toEqual([409, 'lost']);
      expect(await lock('lease-short', 'alice', 'DELETE')).toEqual([200, 'lock-does-not-exist']);
      expect(await lock('lease-short', 'bob', 'POST')).toEqual([200, 'taken']);
      expect(await lock('lease-kept', 'bob', 'POST')).toEqual([409, 'busy']);
      expect(await lock('lease-kept', 'alice', 'DELETE')).toEqual([200, 'success']);
    });

    l8(t('lock: maps denied and invalid calls to 403 and 400 with the host message'), async () => {
      const denied = await fetch(`${url}/lock/r?owner=o&store=secret`, { method: 'POST' });
      expect(denied.status).toBe(403);
      expect(denied.headers.get('content-type')).toBe('text/plain');
      expect(await denied.text()).toBe('denied: lock store "secret" is not granted to function "conformance"; add it to capabilities.lock in its manifest');
      expect(await answer(`${url}/lock/r?owner=o&expire=0`, { method: 'POST' })).toEqual([400, 'invalid: expire-seconds must be at least 1']);
      expect(await answer(`${url}/lock/r?expire=5`, { method: 'PUT' })).toEqual([400, 'invalid: lock resource and owner must not be empty']);
      expect(await answer(`${url}/lock/r?owner=o&store=secret`, { method: 'DELETE' })).toEqual([403, expect.stringMatching(/^denied: lock store "secret" is not granted/)]);
      // The guest checks its own parameter the same way in every language.
      expect(await answer(`${url}/lock/r?owner=o&expire=%2B5`, { method: 'POST' })).toEqual([400, "query parameter 'expire' must be an integer from 0 to 4294967295, got '+5'"]);
      expect(await answer(`${url}/lock/r?owner=o&expire=4294967296`, { method: 'PUT' })).toEqual([400, "query parameter 'expire' must be an integer from 0 to 4294967295, got '4294967296'"]);
    });

    l8(t('sequencer: ids strictly increase, and stay distinct under concurrent requests'), async () => {
      const next = async (key: string) => {
        const [status, body] = await answer(`${url}/sequence/${key}`, { method: 'POST' });
        expect([status, body]).toEqual([200, expect.stringMatching(/^[1-9]\d*$/)]);
        return BigInt(body);
      };
      const sequential: bigint[] = [];
      for (let i = 0; i < 5; i++) sequential.push(await next('conf-seq'));
      for (let i = 1; i < sequential.length; i++) expect(sequential[i]! > sequential[i - 1]!).toBe(true);
      const concurrent = await Promise.all(Array.from({ length: 40 }, () => next('conf-seq')));
      expect(new Set(concurrent).size).toBe(concurrent.length);
      for (const id of concurrent) expect(id > sequential.at(-1)!).toBe(true);
      const after = await next('conf-seq');
      for (const id of concurrent) expect(after > id).toBe(true);
    });

    l8(t('sequencer: ids beyond 32 bits arrive whole (the u64 at offset 8)'), async () => {
      expect(await answer(`${url}/sequence/conf-wide`, { method: 'POST' })).toEqual([200, String(SEEDED_IDS['conf-wide']! + 1n)]);
      expect(await answer(`${url}/sequence/conf-wide`, { method: 'POST' })).toEqual([200, String(SEEDED_IDS['conf-wide']! + 2n)]);
      expect(await answer(`${url}/sequence/conf-huge`, { method: 'POST' })).toEqual([200, String(SEEDED_IDS['conf-huge']! + 1n)]);
    });

    l8(t('sequencer: maps denied and invalid calls, with the error record at offset 8'), async () => {
      const denied = await fetch(`${url}/sequence/k?store=secret`, { method: 'POST' });
      expect(denied.status).toBe(403);
      expect(denied.headers.get('content-type')).toBe('text/plain');
      expect(await denied.text()).toBe('denied: sequencer "secret" is not granted to function "conformance"; add it to capabilities.sequencer in its manifest');
      expect(await answer(`${url}/sequence/`, { method: 'POST' })).toEqual([400, 'invalid: sequencer key must not be empty']);
    });

    it(t('turns a trap into 500 with a JSON error, and keeps serving'), async () => {
      const response = await fetch(`${url}/trap`);
      expect(response.status).toBe(500);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('trap');
      expect((await fetch(`${url}/status/200`)).status).toBe(200);
    });

    stdio(t('captures stdout and stderr as log lines'), async () => {
      const response = await fetch(`${url}/stdout`);
      expect([response.status, await response.text()]).toEqual([200, 'printed']);
      const lines = (await runtime.cli(['logs', 'conformance', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { source: string; level: string; message: string; requestId: string });
      const out = lines.find((l) => l.message === 'conformance stdout line');
      const err = lines.find((l) => l.message === 'conformance stderr line');
      expect(out).toMatchObject({ source: 'stdout', level: 'info', requestId: response.headers.get('l8-request-id') });
      expect(err).toMatchObject({ source: 'stderr', level: 'warn' });
    });

    l8(t('writes through the log import'), async () => {
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
    runtime = await startRuntimeProcess({ timeoutMs: START_TIMEOUT_MS });
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


// Like the per-language suites above, these exist only for the languages that were built.
if (LANGUAGES.length > 0) describe('cross-language: ticket from every language against one lock store and one sequencer', () => {
  let runtime: RuntimeProcess;
  const route = (language: Language) => `/${language}/ticket`;

  beforeAll(async () => {
    const dir = tempDataDir('l8-conf-ticket-');
    const functions: Record<string, unknown> = {
      // The conformance function holds queues on the tickets' behalf.
      holder: { module: requireBuild(LANGUAGES[0]!, 'conformance'), routes: ['ANY /conf/*'], capabilities: { lock: ['default'] } },
    };
    for (const language of LANGUAGES) {
      functions[`ticket-${language}`] = { module: requireBuild(language, 'ticket'), routes: [`POST ${route(language)}/:queue`], capabilities: { lock: ['default'], sequencer: ['default'] } };
      // Without the sequencer grant, to see a failure in the middle of the critical section.
      functions[`ticket-${language}-no-sequencer`] = { module: requireBuild(language, 'ticket'), routes: [`POST /${language}/ungranted/:queue`], capabilities: { lock: ['default'] } };
    }
    writeFileSync(join(dir, 'app.yaml'), stringify({ functions }));
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--app', join(dir, 'app.yaml')], timeoutMs: START_TIMEOUT_MS });
  });
  afterAll(() => runtime?.stop());

  const ticket = async (path: string) => {
    const response = await fetch(`${runtime.httpUrl}${path}`, { method: 'POST' });
    return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text() };
  };

  it(`${LANGUAGES.join(', ')}: take turns on one queue and get strictly increasing tickets`, async () => {
    const ids: bigint[] = [];
    for (let round = 0; round < 3; round++) {
      for (const language of LANGUAGES) {
        const issued = await ticket(`${route(language)}/shared`);
        expect(issued, language).toEqual({ status: 200, contentType: 'text/plain; charset=utf-8', body: expect.stringMatching(/^ticket [1-9]\d*$/) });
        ids.push(BigInt(issued.body.slice('ticket '.length)));
      }
    }
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `ticket ${i}: ${ids.join(', ')}`).toBe(true);
  });

  it(`${LANGUAGES.join(', ')}: answer 409 "queue <queue> is busy" alike while someone else holds the queue`, async () => {
    const hold = (method: string) => answer(`${runtime.httpUrl}/conf/lock/queue/held?owner=someone-else&expire=30`, { method });
    expect(await hold('POST')).toEqual([200, 'taken']);
    for (const language of LANGUAGES) {
      expect(await ticket(`${route(language)}/held`), language).toEqual({ status: 409, contentType: 'text/plain; charset=utf-8', body: 'queue held is busy' });
    }
    expect(await hold('DELETE')).toEqual([200, 'success']);
    for (const language of LANGUAGES) {
      expect((await ticket(`${route(language)}/held`)).status, language).toBe(200);
    }
  });

  it(`${LANGUAGES.join(', ')}: map a host error alike and unlock the queue before answering`, async () => {
    for (const language of LANGUAGES) {
      const failed = await ticket(`/${language}/ungranted/q-${language}`);
      expect(failed, language).toEqual({
        status: 403,
        contentType: 'text/plain',
        body: `denied: sequencer "default" is not granted to function "ticket-${language}-no-sequencer"; add it to capabilities.sequencer in its manifest`,
      });
      // The failed ticket did not leave its queue locked.
      const probe = `${runtime.httpUrl}/conf/lock/queue/q-${language}?owner=probe`;
      expect(await answer(probe, { method: 'POST' }), language).toEqual([200, 'taken']);
      expect(await answer(probe, { method: 'DELETE' })).toEqual([200, 'success']);
    }
  });
});

if (LANGUAGES.length > 0) describe('cross-language: stock answers 503 while its state store is down', () => {
  let redis: PrivateRedis;
  let runtime: RuntimeProcess;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const dir = tempDataDir('l8-conf-outage-');
    const functions: Record<string, unknown> = {};
    for (const language of LANGUAGES) {
      functions[`stock-${language}`] = {
        module: requireBuild(language, 'stock'),
        routes: [`GET /${language}/stock/:name`, `PUT /${language}/stock/:name`],
        capabilities: { state: ['default'], publish: { default: ['stock-changed'] } },
      };
    }
    writeFileSync(join(dir, 'app.yaml'), stringify({ functions }));
    writeFileSync(join(dir, 'runtime.yaml'), stringify({ components: { state: { default: { type: 'redis', url: redis.url, commandTimeoutMs: 1000, connectTimeoutMs: 500 } } } }));
    runtime = await startRuntimeProcess({ dataDir: join(dir, 'data'), args: ['--config', join(dir, 'runtime.yaml'), '--app', join(dir, 'app.yaml')], timeoutMs: START_TIMEOUT_MS });
  });
  afterAll(async () => {
    await runtime?.stop();
    await redis?.dispose();
  });

  it(`${LANGUAGES.join(', ')}: 503 "unavailable: state store "default": ..." for reads and writes`, async () => {
    for (const language of LANGUAGES) {
      expect(await answer(`${runtime.httpUrl}/${language}/stock/book`, { method: 'PUT', body: '7' }), language).toEqual([200, '7']);
    }
    await redis.kill();
    for (const language of LANGUAGES) {
      for (const init of [{ method: 'GET' }, { method: 'PUT', body: '8' }]) {
        const response = await fetch(`${runtime.httpUrl}/${language}/stock/book`, init);
        const body = await response.text();
        expect([response.status, response.headers.get('content-type')], `${language} ${init.method}: ${body}`).toEqual([503, 'text/plain']);
        expect(body, `${language} ${init.method}`).toMatch(/^unavailable: state store "default"/);
      }
    }
  }, 60_000);
});
