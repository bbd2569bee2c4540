import { configContract } from './contract.test-kit.ts';
import { InlineConfigStore } from './inline.ts';

configContract('inline', async (initial) => new InlineConfigStore(initial));
