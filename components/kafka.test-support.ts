// A private Kafka broker for fault tests, started and restarted with the services library
// (scripts/services/kafka.ts) in its own services directory and on its own ports, so
// restarting it does not disturb the shared broker other test files use at the same time.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '../test/support/free-port.ts';

const servicesModule = pathToFileURL(resolve(import.meta.dirname, '../scripts/services/kafka.ts')).href;


export interface PrivateKafka {
  brokers: string[];
  /** restartKafka(): a clean stop, then a start on the same data; resolves when it serves again. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPrivateKafka(): Promise<PrivateKafka> {
  const dir = mkdtempSync(join(tmpdir(), 'l8-private-kafka-'));
  const [port, controller] = [await freePort(), await freePort()];
  const env = { ...process.env, L8_SERVICES_DIR: dir, L8_KAFKA_PORT: String(port), L8_KAFKA_CONTROLLER_PORT: String(controller) };
  // The services library reads its directory and ports when loaded: run it in a child.
  const call = (fn: 'startKafka' | 'restartKafka' | 'stopKafka') =>
    new Promise<void>((resolveCall, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(servicesModule)}); await m.${fn}();`],
        { env, timeout: 240_000 },
        (error, _stdout, stderr) => (error ? reject(new Error(`${fn} of the private Kafka broker failed: ${stderr || error.message}`)) : resolveCall()),
      );
    });
  await call('startKafka');
  return {
    brokers: [`127.0.0.1:${port}`],
    restart: () => call('restartKafka'),
    dispose: async () => {
      await call('stopKafka').catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
