import { MemorySequencer } from './memory.ts';
import { sequencerContract } from './contract.test-kit.ts';

sequencerContract('memory', async () => new MemorySequencer());
