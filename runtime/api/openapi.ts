// The OpenAPI 3.1 document of the HTTP/JSON runtime API and the actuator, served at
// GET /openapi.json. A test holds it to the routes the server registers, both ways.
const store = { name: 'store', in: 'path', required: true, description: 'Component name under components.<kind> in the runtime config ("default" always exists)', schema: { type: 'string' } };
const key = { name: 'key', in: 'path', required: true, description: 'URL-encoded (a key with "/" is sent as %2F)', schema: { type: 'string' } };
const timeout = { name: 'l8-timeout-ms', in: 'header', required: false, description: 'Longest wait for the component, in milliseconds (default: runtimeApi.timeoutMs)', schema: { type: 'integer', minimum: 1 } };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errors = {
  '400': { description: 'Invalid request, or no component of that name (INVALID_ARGUMENT)', ...json(ref('Error')) },
  '409': { description: 'ETag mismatch (ABORTED): read the key again and retry', ...json(ref('Error')) },
  '503': { description: 'The component is unavailable (UNAVAILABLE)', ...json(ref('Error')) },
  '504': { description: 'The component did not answer in time (DEADLINE_EXCEEDED)', ...json(ref('Error')) },
};
const noContent = { '204': { description: 'Done' } };
const health = {
  description: 'Health: 200 when UP, 503 when INIT or DOWN',
  ...json(ref('Health')),
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'L8 runtime API (HTTP/JSON)',
    version: '1.0.0',
    description:
      'State, pub/sub, configuration, lock, sequencer, secrets and service invocation for apps, shaped like Dapr\'s HTTP API. ' +
      'The same operations are served over gRPC as Layotto\'s spec.proto.runtime.v1.Runtime. See docs/runtime-api.md.',
  },
  paths: {
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 document', ...json({ type: 'object' }) } } } },
    '/v1.0/state/{store}': {
      post: {
        summary: 'Save state items (not atomic; use /transaction for all-or-nothing)',
        parameters: [store, timeout],
        requestBody: { required: true, ...json({ type: 'array', items: ref('StateItem') }) },
        responses: { ...noContent, ...errors },
      },
    },
    '/v1.0/state/{store}/{key}': {
      get: {
        summary: 'Get the value of a key: the stored bytes, with its ETag in the ETag header',
        parameters: [store, key, timeout],
        responses: { '200': { description: 'The value', headers: { ETag: { schema: { type: 'string' } } }, content: { 'application/octet-stream': {}, 'application/json': {} } }, '204': { description: 'The key does not exist' }, ...errors },
      },
      put: {
        summary: 'Set a key to the raw request body (L8 extension)',
        parameters: [store, key, timeout,
          { name: 'If-Match', in: 'header', required: false, description: 'Write only if the current ETag matches', schema: { type: 'string' } },
          { name: 'ttlInSeconds', in: 'query', required: false, schema: { type: 'integer', minimum: 1 } },
          { name: 'concurrency', in: 'query', required: false, schema: { enum: ['first-write', 'last-write'] } }],
        requestBody: { required: false, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        responses: { '204': { description: 'Written; the new ETag is in the ETag header', headers: { ETag: { schema: { type: 'string' } } } }, ...errors },
      },
      delete: {
        summary: 'Delete a key (deleting a missing key succeeds unless an ETag was given)',
        parameters: [store, key, timeout,
          { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } },
          { name: 'concurrency', in: 'query', required: false, schema: { enum: ['first-write', 'last-write'] } }],
        responses: { ...noContent, ...errors },
      },
    },
    '/v1.0/state/{store}/bulk': {
      post: {
        summary: 'Get several keys',
        parameters: [store, timeout],
        requestBody: { required: true, ...json({ type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: { type: 'string' } }, parallelism: { type: 'integer' } } }) },
        responses: { '200': { description: 'One item per key, in order; no data/etag when the key does not exist', ...json({ type: 'array', items: ref('BulkStateItem') }) }, ...errors },
      },
    },
    '/v1.0/state/{store}/transaction': {
      post: {
        summary: 'Apply upserts and deletes together, all or none',
        parameters: [store, timeout],
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            required: ['operations'],
            properties: {
              operations: { type: 'array', items: { type: 'object', required: ['operation', 'request'], properties: { operation: { enum: ['upsert', 'delete'] }, request: ref('StateItem') } } },
              metadata: { type: 'object', additionalProperties: { type: 'string' } },
            },
          }),
        },
        responses: { ...noContent, ...errors },
      },
    },
    '/v1.0/publish/{pubsub}/{topic}': {
      post: {
        summary: 'Publish the raw request body; metadata.<name> query parameters become message metadata',
        parameters: [
          { name: 'pubsub', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'topic', in: 'path', required: true, schema: { type: 'string' } },
          timeout,
        ],
        requestBody: { required: false, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        responses: { '200': { description: 'Accepted by the broker', ...json({ type: 'object', properties: { id: { type: 'string', description: 'Message id' } } }) }, ...errors },
      },
    },
    '/v1.0/configuration/{store}': {
      get: {
        summary: 'Get configuration values (every key when no key is given)',
        parameters: [store, { name: 'key', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true }],
        responses: { '200': { description: 'Values of the keys that exist', ...json(ref('ConfigurationItems')) }, ...errors },
      },
      put: {
        summary: 'Set configuration values ("" deletes a key); writable stores only',
        parameters: [store, timeout],
        requestBody: { required: true, ...json({ type: 'object', additionalProperties: { type: 'string' } }) },
        responses: { ...noContent, '412': { description: 'The store is read-only (FAILED_PRECONDITION)', ...json(ref('Error')) }, ...errors },
      },
      delete: {
        summary: 'Delete configuration keys',
        parameters: [store, timeout, { name: 'key', in: 'query', required: true, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true }],
        responses: { ...noContent, ...errors },
      },
    },
    '/v1.0/configuration/{store}/subscribe': {
      get: {
        summary: 'Server-sent events: one event per change of the keys (all keys when none given)',
        parameters: [store, { name: 'key', in: 'query', required: false, schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: true }],
        responses: { '200': { description: 'text/event-stream; each data line is {"items": ConfigurationItems}; a deleted key has value ""', content: { 'text/event-stream': {} } }, ...errors },
      },
    },
    '/v1.0-alpha1/lock/{store}': {
      post: {
        summary: 'Try to take a lock (does not wait)',
        parameters: [store, timeout],
        requestBody: { required: true, ...json(ref('LockRequest')) },
        responses: { '200': { description: 'Whether the lock was taken', ...json({ type: 'object', properties: { success: { type: 'boolean' } } }) }, ...errors },
      },
    },
    '/v1.0-alpha1/lock/{store}/keepalive': {
      post: {
        summary: 'Extend the lease of a lock the owner holds',
        parameters: [store, timeout],
        requestBody: { required: true, ...json(ref('LockRequest')) },
        responses: { '200': { description: 'status 0: extended; 1: the owner does not hold it (any more)', ...json({ type: 'object', properties: { status: { enum: [0, 1] } } }) }, ...errors },
      },
    },
    '/v1.0-alpha1/unlock/{store}': {
      post: {
        summary: 'Release a lock',
        parameters: [store, timeout],
        requestBody: { required: true, ...json({ type: 'object', required: ['resourceId', 'lockOwner'], properties: { resourceId: { type: 'string' }, lockOwner: { type: 'string' } } }) },
        responses: { '200': { description: 'status 0: released; 1: no such lock; 2: held by another owner', ...json({ type: 'object', properties: { status: { enum: [0, 1, 2, 3] } } }) }, ...errors },
      },
    },
    '/v1.0-alpha1/sequencer/{store}/{key}': {
      post: {
        summary: 'The next id for a key: greater than every id returned before for it',
        parameters: [store, key, timeout],
        responses: { '200': { description: 'The id, as a decimal string (64 bits do not fit a JSON number)', ...json({ type: 'object', properties: { nextId: { type: 'string' } } }) }, ...errors },
      },
    },
    '/v1.0/secrets/{store}/{key}': {
      get: {
        summary: 'Get a secret',
        parameters: [store, key, timeout],
        responses: { '200': { description: 'The secret\'s values by name', ...json({ type: 'object', additionalProperties: { type: 'string' } }) }, '404': { description: 'No such secret', ...json(ref('Error')) }, ...errors },
      },
    },
    '/v1.0/secrets/{store}/bulk': {
      get: {
        summary: 'Get every secret of a store',
        parameters: [store, timeout],
        responses: { '200': { description: 'Secrets by name', ...json({ type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'string' } } }) }, ...errors },
      },
    },
    '/v1.0/invoke/{id}/method/{path}': Object.fromEntries(
      ['get', 'post', 'put', 'patch', 'delete', 'options'].map((verb) => [
        verb,
        {
          summary: 'Call a deployed function, or an app listed under runtimeApi.apps, with this request; {path} may contain slashes',
          parameters: [
            { name: 'id', in: 'path', required: true, description: 'Function name or app id', schema: { type: 'string' } },
            { name: 'path', in: 'path', required: true, description: 'Path inside the target', schema: { type: 'string' } },
            timeout,
          ],
          requestBody: { required: false, content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
          responses: { default: { description: 'The target\'s own response: status, headers and body' }, '404': { description: 'No such function or app', ...json(ref('Error')) } },
        },
      ]),
    ),
    '/actuator/health/liveness': { get: { summary: 'Liveness: UP while the process serves (restart it when this fails)', responses: { '200': health, '503': health } } },
    '/actuator/health/readiness': {
      get: { summary: 'Readiness: INIT while starting, UP, or DOWN naming each failing component', responses: { '200': health, '503': health } },
    },
    '/actuator/info': {
      get: { summary: 'Version, components (built-in and pluggable) and deployed functions', responses: { '200': { description: 'Runtime metadata', ...json({ type: 'object' }) } } },
    },
  },
  components: {
    schemas: {
      Error: {
        type: 'object',
        properties: { error: { type: 'object', properties: { code: { type: 'string', description: 'gRPC status code name, e.g. ABORTED' }, message: { type: 'string' }, requestId: { type: 'string' } } } },
      },
      StateItem: {
        type: 'object',
        required: ['key'],
        properties: {
          key: { type: 'string' },
          value: { description: 'Any JSON; stored as its JSON text (as Dapr does)' },
          valueBase64: { type: 'string', description: 'Raw bytes, base64 (instead of value)' },
          etag: { type: 'string', description: 'Write only if this is the current ETag' },
          options: { type: 'object', properties: { concurrency: { enum: ['first-write', 'last-write'], description: 'last-write ignores the ETag' }, consistency: { enum: ['eventual', 'strong'] } } },
          metadata: { type: 'object', properties: { ttlInSeconds: { type: 'string', description: 'Expire the key after this many seconds' } }, additionalProperties: { type: 'string' } },
        },
      },
      BulkStateItem: {
        type: 'object',
        properties: { key: { type: 'string' }, data: { description: 'The value, when it is JSON' }, dataBase64: { type: 'string', description: 'The value, when it is not JSON' }, etag: { type: 'string' } },
      },
      ConfigurationItems: {
        type: 'object',
        additionalProperties: { type: 'object', properties: { value: { type: 'string' }, version: { type: 'string' }, metadata: { type: 'object', additionalProperties: { type: 'string' } } } },
      },
      LockRequest: {
        type: 'object',
        required: ['resourceId', 'lockOwner', 'expiryInSeconds'],
        properties: { resourceId: { type: 'string' }, lockOwner: { type: 'string', description: 'A unique id per request, e.g. a UUID' }, expiryInSeconds: { type: 'integer', minimum: 1 } },
      },
      Health: {
        type: 'object',
        properties: {
          status: { enum: ['INIT', 'UP', 'DOWN'] },
          components: { type: 'object', additionalProperties: { type: 'object', properties: { status: { enum: ['INIT', 'UP', 'DOWN'] }, details: { type: 'object' } } } },
        },
      },
    },
  },
} as const;
