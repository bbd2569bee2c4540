import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { FileStateStore } from './file.ts';
import { stateContract } from './contract.test-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'l8-state-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Two stores on one file share it, as two runtimes on one data directory would.
stateContract('file', async () => new FileStateStore({ path: join(dir, 'state.sqlite') }), { shared: true });
