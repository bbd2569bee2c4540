import { MemoryStateStore } from './memory.ts';
import { stateContract } from './contract.test-kit.ts';

stateContract('memory', async () => new MemoryStateStore());
