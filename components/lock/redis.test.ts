import { afterAll } from 'vitest';
import { unique } from '../contract-kit.ts';
import { redisSettings } from '../redis.ts';
import { deleteKeys } from '../redis.test-support.ts';
import { RedisLockStore } from './redis.ts';
import { lockContract } from './contract.test-kit.ts';

const url = process.env.L8_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `${unique('l8-test')}:`;
afterAll(() => deleteKeys(url, prefix));

lockContract('redis', async () => new RedisLockStore(redisSettings({ url, keyPrefix: prefix }, 'test', 'unused')), { shared: true });
