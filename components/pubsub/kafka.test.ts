import { pubsubContract } from './contract.test-kit.ts';
import { KafkaPubSub } from './kafka.ts';

const brokers = (process.env.L8_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

pubsubContract('kafka', async () => new KafkaPubSub({ brokers, redeliverMs: 20, logLevel: 'error' }), { deliveryTimeoutMs: 30_000 });
