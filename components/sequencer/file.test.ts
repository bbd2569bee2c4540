import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { FileSequencer } from './file.ts';
import { sequencerContract } from './contract.test-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'l8-sequencer-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

sequencerContract('file', async () => new FileSequencer({ path: join(dir, 'sequences.sqlite') }), { shared: true });
