// Process plumbing shared by the services: background daemons with pid files, stopping a
// whole process group, a lock so two `services` commands never start the same server
// twice, and running build tools with their output kept in a log.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { servicesDir } from './paths.ts';

/** True if the process exists and is not a zombie (a killed child not yet reaped still answers kill(pid, 0)). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the command name, which is in parentheses and may contain spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

export interface Daemon {
  /** Short name; the pid file is `.services/<name>.pid`. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** A substring of the command line that proves a pid is still this daemon and not a reused pid. */
  marker: string;
}

export function pidFile(name: string): string {
  return join(servicesDir(), `${name}.pid`);
}

/** The pid of the daemon started by us, if it is still running. Stale pid files are removed. */
export function runningPid(name: string, marker: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isRunning(pid) && cmdlineOf(pid).includes(marker)) return pid;
  rmSync(file, { force: true });
  return undefined;
}

/**
 * Starts a daemon in its own session (so it and any children form one process group that
 * `stopDaemon` can signal at once), detached from our stdio, its output appended to its log.
 */
export function startDaemon(d: Daemon): number {
  mkdirSync(dirname(d.logFile), { recursive: true });
  const log = openSync(d.logFile, 'a');
  writeSync(log, `\n=== ${new Date().toISOString()} starting: ${d.command} ${d.args.join(' ')}\n`);
  const child = spawn(d.command, d.args, {
    cwd: d.cwd,
    env: d.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  if (child.pid === undefined) {
    throw new Error(`could not start ${d.command} for ${d.name}; see ${d.logFile}`);
  }
  // Reap it if it dies while we are still alive, and do not keep our event loop open for it.
  child.on('error', () => {});
  child.unref();
  writeFileSync(pidFile(d.name), `${child.pid}\n`);
  return child.pid;
}

/** SIGTERM to the daemon's process group, SIGKILL after `graceMs`, then waits until it is gone. */
export async function stopDaemon(name: string, marker: string, graceMs: number): Promise<boolean> {
  const pid = runningPid(name, marker);
  if (pid === undefined) return false;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid) && Date.now() < deadline) await sleep(50);
  if (isRunning(pid)) {
    signal('SIGKILL');
    const killDeadline = Date.now() + 10_000;
    while (isRunning(pid) && Date.now() < killDeadline) await sleep(50);
    if (isRunning(pid)) throw new Error(`${name} (pid ${pid}) did not exit after SIGKILL`);
  }
  rmSync(pidFile(name), { force: true });
  return true;
}

/** Polls `check` until it returns a value; fails with the last error and the log's tail. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  opts: { alive?: () => boolean; logFile?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (opts.alive && !opts.alive()) {
      throw new Error(`${what}: the process exited while starting (last check: ${last})${logTail(opts.logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s (last check: ${last})${logTail(opts.logFile)}`);
    }
    await sleep(200);
  }
}

export function logTail(file: string | undefined, lines = 25): string {
  if (!file || !existsSync(file)) return '';
  const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n    ');
  return `\n  last lines of ${file}:\n    ${text}`;
}

/** True if something accepts TCP connections on 127.0.0.1:port. */
export function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Refuses to start a server on a port some other program already listens on. */
export async function assertPortFree(port: number, service: string, variable: string): Promise<void> {
  if (await portAnswers(port)) {
    throw new Error(
      `${service}: port 127.0.0.1:${port} is already in use by a process that \`npm run services:up\` did not start. ` +
        `Stop that process, or choose another port with ${variable}=<port>.`,
    );
  }
}

/**
 * Runs a build tool to completion, its output appended to `logFile` (and echoed when
 * L8_SERVICES_VERBOSE=1). Fails with the command, exit status and the log's tail.
 */
export function run(command: string, args: string[], opts: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv }): Promise<void> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = openSync(opts.logFile, 'a');
  writeSync(log, `\n=== ${new Date().toISOString()} (cd ${opts.cwd} && ${command} ${args.join(' ')})\n`);
  const verbose = process.env.L8_SERVICES_VERBOSE === '1';
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer) => {
      writeSync(log, chunk);
      if (verbose) process.stderr.write(chunk);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => {
      closeSync(log);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new Error(missing ? `${command} is not installed or not on PATH` : `${command}: ${err.message}`));
    });
    child.once('close', (code, sig) => {
      closeSync(log);
      if (code === 0) resolve();
      else reject(new Error(`\`${command} ${args.join(' ')}\` failed (${sig ?? `exit ${code}`})${logTail(opts.logFile, 40)}`));
    });
  });
}

/** Captures a command's stdout (for small queries like `go mod download -json`). */
export function capture(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', (e) =>
      reject(new Error((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${command} is not installed or not on PATH` : e.message)),
    );
    child.once('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`\`${command} ${args.join(' ')}\` failed (exit ${code}): ${err.trim()}`)),
    );
  });
}

let holders = 0;
let acquiring: Promise<void> | undefined;
const lockFile = () => join(servicesDir(), 'lock');

/**
 * Serialises service commands across processes (the CLI, and tests that stop and start a
 * server). Within one process the lock is shared: `up` starts several services at once
 * under one lock, and nested calls do not wait for themselves. A lock left by a dead
 * process is taken over.
 */
export async function withLock<T>(fn: () => Promise<T>, timeoutMs = 45 * 60_000): Promise<T> {
  if (holders === 0) {
    if (!acquiring) {
      acquiring = acquireLockFile(timeoutMs).finally(() => (acquiring = undefined));
    }
    await acquiring;
  }
  holders++;
  try {
    return await fn();
  } finally {
    holders--;
    if (holders === 0) rmSync(lockFile(), { force: true });
  }
}

async function acquireLockFile(timeoutMs: number): Promise<void> {
  mkdirSync(servicesDir(), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(lockFile(), 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let text: string;
    try {
      text = readFileSync(lockFile(), 'utf8').trim();
    } catch {
      continue; // Removed between our open and our read: try again.
    }
    if (text === '') {
      // Its creator has not written its pid yet, or died right after creating it.
      if (Date.now() - (statSync(lockFile(), { throwIfNoEntry: false })?.mtimeMs ?? 0) > 5000) rmSync(lockFile(), { force: true });
      else await sleep(50);
      continue;
    }
    const holder = Number(text);
    if (!Number.isInteger(holder) || !isRunning(holder)) {
      rmSync(lockFile(), { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`another services command (pid ${holder}) has held ${lockFile()} for too long`);
    }
    if (!told) {
      process.stderr.write(`waiting for another services command (pid ${holder}) to finish...\n`);
      told = true;
    }
    await sleep(250);
  }
}
