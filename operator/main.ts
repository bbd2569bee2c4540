// Entry point of the L8 operator: `node operator/main.ts [flags]` (flags: operator/cli.ts).
import { runOperator } from './cli.ts';

try {
  process.exitCode = await runOperator(process.argv.slice(2));
} catch (error) {
  console.error(`l8 operator: ${(error as Error).message}`);
  process.exitCode = 1;
}
