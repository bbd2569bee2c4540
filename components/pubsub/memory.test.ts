import { MemoryPubSub } from './memory.ts';
import { pubsubContract } from './contract.test-kit.ts';

pubsubContract('memory', async () => new MemoryPubSub({ redeliverMs: 20 }));
