// npm run services:up [redis] [kafka] [k8s]   start (idempotent) and wait until ready
// npm run services:down [names...]            stop what services:up started
// npm run services:status [names...]          health of each; exit 1 if any is unhealthy
// npx node scripts/services/cli.ts clean      down, then delete .services/ (Node 24: npx picks node_modules/.bin/node)
// npx node scripts/services/cli.ts env        print .services/env.json

import { relative } from 'node:path';
import { clean, down, readServicesEnv, serviceNames, status, up, type ServiceName, type StepReport } from './index.ts';
import { repoRoot } from './paths.ts';

const usage = `usage: npx node scripts/services/cli.ts <up|down|status|clean|env> [${serviceNames.join('|')} ...]
  up       start the named services (default: all) unless running; wait until each answers
  down     stop the named services (default: all) that up started
  status   show whether each answers; exits 1 if any is not healthy
  clean    stop everything and delete .services/ (data, logs, credentials)
  env      print the connection info (.services/env.json)
Ports: L8_REDIS_PORT (6379), L8_KAFKA_PORT (9092), L8_KAFKA_CONTROLLER_PORT (9093),
       L8_ETCD_PORT (2379), L8_ETCD_PEER_PORT (etcd+1), L8_KUBE_APISERVER_PORT (6443).`;

function parseNames(args: string[]): ServiceName[] {
  if (args.length === 0) return [...serviceNames];
  for (const a of args) {
    if (!(serviceNames as readonly string[]).includes(a)) {
      throw new Error(`unknown service "${a}"; the services are: ${serviceNames.join(', ')}`);
    }
  }
  return args as ServiceName[];
}

// kafkajs 2.2.4 computes a negative timeout against Node >= 23 in its request queue
// (harmless: Node clamps it to 1 ms); its warning would be noise in every `up`.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});

const say = (line: string) => process.stdout.write(`${line}\n`);

function finish(results: StepReport[], verb: string, t0: number): number {
  const failed = results.filter((r) => !r.ok);
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  if (failed.length) {
    say(`services ${verb}: ${failed.map((r) => r.service).join(', ')} FAILED (${total} s); logs are in ${relative(process.cwd(), repoRoot) || '.'}/.services/logs/`);
    return 1;
  }
  say(`services ${verb}: ${results.map((r) => r.service).join(', ')} done in ${total} s`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const t0 = performance.now();
  switch (command) {
    case 'up':
      return finish(await up(parseNames(rest), say), 'up', t0);
    case 'down':
      return finish(await down(parseNames(rest), say), 'down', t0);
    case 'status': {
      const rows = await status(parseNames(rest));
      for (const r of rows) {
        say(`${r.service.padEnd(6)} ${(r.healthy ? 'healthy' : 'DOWN').padEnd(8)} ${r.pid !== undefined ? `pid ${r.pid}`.padEnd(10) : ''.padEnd(10)} ${r.detail}`);
        say(`${''.padEnd(16)} logs: ${r.logs.map((l) => relative(process.cwd(), l)).join(', ')}`);
      }
      return rows.every((r) => r.healthy) ? 0 : 1;
    }
    case 'clean':
      await clean(say);
      return 0;
    case 'env':
      say(JSON.stringify(readServicesEnv(), null, 2));
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      say(usage);
      return command === undefined ? 2 : 0;
    default:
      throw new Error(`unknown command "${command}"\n${usage}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`services: ${err.message}\n`);
    process.exit(1);
  },
);
