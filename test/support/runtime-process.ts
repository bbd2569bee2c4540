// Starts the real `l8 serve` as a child process (free ports, temporary data dir) and runs
// the real CLI against it, so end-to-end tests see exactly what users see.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '../..');
export const L8_BIN = join(ROOT, 'bin/l8.js');

export interface RuntimeProcess {
  httpUrl: string;
  adminUrl: string;
  /** Every other address in the "L8 runtime is serving" line (extension listeners), by name. */
  urls: Record<string, string>;
  dataDir: string;
  /** Every stdout line (JSON logs) so far. */
  logs: string[];
  child: ChildProcess;
  cli(args: string[], input?: { env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export interface StartOptions {
  args?: string[];
  dataDir?: string;
  env?: Record<string, string>;
  /** Milliseconds to wait for "L8 runtime is serving". */
  timeoutMs?: number;
}

export function tempDataDir(prefix = 'l8-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startRuntimeProcess(options: StartOptions = {}): Promise<RuntimeProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const child = spawn(process.execPath, [L8_BIN, 'serve', '--port', '0', '--admin-port', '0', '--data-dir', dataDir, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, L8_LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const ready = new Promise<{ http: string; admin: string; urls: Record<string, string> }>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`runtime did not start within ${options.timeoutMs ?? 20000} ms\nstdout:\n${logs.join('\n')}\nstderr:\n${stderr.join('')}`)), options.timeoutMs ?? 20000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; http?: string; admin?: string };
        if (entry.msg === 'L8 runtime is serving') {
          clearTimeout(timer);
          const urls = Object.fromEntries(Object.entries(entry).filter(([key, value]) => key !== 'http' && key !== 'admin' && typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//.test(value))) as Record<string, string>;
          resolveReady({ http: entry.http!, admin: entry.admin!, urls });
        }
      } catch {
        // not a JSON log line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited with code ${code} before serving\nstdout:\n${logs.join('\n')}\nstderr:\n${stderr.join('')}`));
    });
  });
  const { http, admin, urls } = await ready;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    httpUrl: http,
    adminUrl: admin,
    urls,
    dataDir,
    logs,
    child,
    cli: (args, input) => runCli(args, { L8_ADMIN_URL: admin, L8_DATA_DIR: dataDir, ...input?.env }),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [L8_BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}
