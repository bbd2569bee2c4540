import { afterAll } from 'vitest';
import { unique } from '../contract-kit.ts';
import { redisSettings } from '../redis.ts';
import { deleteKeys } from '../redis.test-support.ts';
import { RedisSequencer } from './redis.ts';
import { sequencerContract } from './contract.test-kit.ts';
import { describeWithService } from '../../test/support/services.ts';

describeWithService('redis', 'redis sequencer backend', (redis) => {
  const url = redis.url;
  const prefix = `${unique('l8-test')}:`;
  afterAll(() => deleteKeys(url, prefix));

  sequencerContract('redis', async () => new RedisSequencer(redisSettings({ url, keyPrefix: prefix }, 'test', 'unused')), { shared: true });
});
