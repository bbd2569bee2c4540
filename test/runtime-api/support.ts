// Shared pieces of the runtime API end-to-end tests: an app with an AppCallback server,
// SubscribeTopicEvents streams, readiness polling.
import * as grpc from '@grpc/grpc-js';
import { AppCallbackService, type LayottoClient, type Msg } from './layotto-client.ts';

export type EventStatus = 'SUCCESS' | 'RETRY' | 'DROP';

/** A test app implementing Layotto's AppCallback: it subscribes to `topics` and answers with `behaviour`. */
export async function startAppCallback(topics: Array<{ pubsub_name: string; topic: string; metadata?: Record<string, string> }>, behaviour: (event: Msg) => EventStatus | Promise<EventStatus>) {
  const server = new grpc.Server();
  const received: Msg[] = [];
  let listRequests = 0;
  let answerList: Promise<void> = Promise.resolve();
  server.addService(AppCallbackService, {
    ListTopicSubscriptions: (_call: unknown, callback: grpc.sendUnaryData<Msg>) => {
      listRequests++;
      void answerList.then(() => callback(null, { subscriptions: topics.map((t) => ({ metadata: {}, ...t })) }));
    },
    OnTopicEvent: (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      received.push(call.request);
      Promise.resolve(behaviour(call.request)).then((status) => callback(null, { status }), (error) => callback({ code: grpc.status.INTERNAL, details: String(error) }));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    address: `127.0.0.1:${port}`,
    received,
    listRequests: () => listRequests,
    /** Holds ListTopicSubscriptions answers until the returned function is called. */
    holdList(): () => void {
      let release!: () => void;
      answerList = new Promise<void>((r) => (release = r));
      return release;
    },
    stop: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  };
}

export interface TopicStream {
  events: Msg[];
  close(): void;
  /** The gRPC status the stream ended with, once it ended. */
  ended: Promise<grpc.StatusObject>;
}

/** Opens SubscribeTopicEvents; resolves after the runtime's initial_response. */
export function subscribeStream(client: LayottoClient, initial: Msg, answer: (event: Msg) => EventStatus | Promise<EventStatus>): Promise<TopicStream> {
  const call = client.raw.SubscribeTopicEvents() as grpc.ClientDuplexStream<Msg, Msg>;
  const events: Msg[] = [];
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => {});
  return new Promise((resolve, reject) => {
    call.on('data', async (message: Msg) => {
      if (message.initial_response) {
        resolve({ events, close: () => call.cancel(), ended });
        return;
      }
      const event = message.event_message;
      events.push(event);
      const status = await answer(event);
      call.write({ event_processed: { id: event.id, status: { status } } });
    });
    void ended.then((s) => reject(new Error(`SubscribeTopicEvents ended before it started: ${grpc.status[s.code]} ${s.details}`)));
    call.write({ initial_request: { metadata: {}, ...initial } });
  });
}

/** Polls readiness until `want`; returns the last report. */
export async function readinessBecomes(apiUrl: string, want: string, timeoutMs = 15_000): Promise<{ status: string; components: Record<string, { status: string; details: Record<string, unknown> }> }> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  for (;;) {
    try {
      const response = await fetch(`${apiUrl}/actuator/health/readiness`);
      last = { code: response.status, ...(await response.json()) };
      if (last.status === want) return last;
    } catch (error) {
      last = { error: (error as Error).message };
    }
    if (Date.now() > deadline) throw new Error(`readiness did not become ${want} within ${timeoutMs} ms; last answer: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
