// Publishing through the `l8:faas/pubsub` import. Which topics of which brokers a
// function may publish to is granted in its manifest (capabilities.publish).
import { RET_AREA, liftString, lowerData, lowerFields, lowerString, releaseRetained } from "./abi";
import { Result, liftError } from "./error";
import { Field } from "./field";

// @ts-ignore: decorator
@external("l8:faas/pubsub@0.2.0", "publish")
declare function pubsub_publish(
  brokerPtr: usize, brokerLen: usize,
  topicPtr: usize, topicLen: usize,
  dataPtr: usize, dataLen: usize,
  metadataPtr: usize, metadataLen: usize,
  retptr: usize,
): void;

const ARGS: usize = memory.data(32, 4);

export namespace pubsub {
  /**
   * Publishes `data` (a string, sent as UTF-8, a Uint8Array or an ArrayBuffer) to `topic`
   * on `broker` and returns the message id. Metadata `partitionKey` selects the ordering
   * key where the broker supports one.
   */
  export function publish<T>(broker: string, topic: string, data: T, metadata: Field[] = []): Result<string> {
    lowerString(broker, ARGS);
    lowerString(topic, ARGS + 8);
    lowerData<T>(data, ARGS + 16);
    lowerFields(metadata, ARGS + 24);
    pubsub_publish(
      load<usize>(ARGS), load<usize>(ARGS, 4),
      load<usize>(ARGS, 8), load<usize>(ARGS, 12),
      load<usize>(ARGS, 16), load<usize>(ARGS, 20),
      load<usize>(ARGS, 24), load<usize>(ARGS, 28),
      RET_AREA,
    );
    releaseRetained();
    if (load<u8>(RET_AREA) != 0) return Result.err<string>(liftError(RET_AREA));
    return Result.ok<string>(liftString(load<usize>(RET_AREA, 4), load<usize>(RET_AREA, 8)));
  }
}
