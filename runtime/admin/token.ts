// The admin API's bearer token: L8_ADMIN_TOKEN if set, otherwise a random token
// generated once into the data directory with mode 0600, where the CLI finds it.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TOKEN_FILE = 'admin-token';

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, TOKEN_FILE);
}

/** Reads the token the runtime uses (for the CLI): env first, then the data dir. */
export function readAdminToken(dataDir: string, env = process.env): string | null {
  if (env.L8_ADMIN_TOKEN) return env.L8_ADMIN_TOKEN;
  try {
    return readFileSync(adminTokenPath(dataDir), 'utf8').trim();
  } catch {
    return null;
  }
}

/** The runtime's token; generates and stores one if there is none. */
export function ensureAdminToken(dataDir: string, env = process.env): string {
  const existing = readAdminToken(dataDir, env);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it first: then use theirs.
  try {
    writeFileSync(adminTokenPath(dataDir), `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  } catch {
    return readFileSync(adminTokenPath(dataDir), 'utf8').trim();
  }
}

export function tokenMatches(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
