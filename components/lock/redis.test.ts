import { afterAll } from 'vitest';
import { unique } from '../contract-kit.ts';
import { redisSettings } from '../redis.ts';
import { deleteKeys } from '../redis.test-support.ts';
import { RedisLockStore } from './redis.ts';
import { lockContract } from './contract.test-kit.ts';
import { describeWithService } from '../../test/support/services.ts';

describeWithService('redis', 'redis lock backend', (redis) => {
  const url = redis.url;
  const prefix = `${unique('l8-test')}:`;
  afterAll(() => deleteKeys(url, prefix));

  lockContract('redis', async () => new RedisLockStore(redisSettings({ url, keyPrefix: prefix }, 'test', 'unused')), { shared: true });
});
