// Small helpers the example builds (examples/*/build.ts) share.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** A runner of commands in `cwd`; a failure rejects with the error, its stdout and stderr attached. */
export function runner(cwd: string): (command: string, args: string[], env?: NodeJS.ProcessEnv) => Promise<RunResult> {
  return (command, args, env = process.env) =>
    new Promise((resolve, reject) => {
      execFile(command, args, { cwd, env, maxBuffer: 32 << 20 }, (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ stdout, stderr });
      });
    });
}

export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
