import { MemoryLockStore } from './memory.ts';
import { lockContract } from './contract.test-kit.ts';

lockContract('memory', async () => new MemoryLockStore());
