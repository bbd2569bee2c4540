// Layotto's admin endpoints, with Layotto's JSON bodies:
//   POST /wasm/install    {"name": "id_1", "instance_num": 1, "vm_config": {"engine": "wasmtime", "path": "f.wasm"}}
//   POST /wasm/update     {"name": "id_1", "instance_num": 2}   (L8 also takes vm_config.path: a new module)
//   POST /wasm/uninstall  {"name": "id_1"}
// Success is 200, as in Layotto; failures carry {"error": "..."} like Layotto's, with an
// HTTP status that says what went wrong (Layotto answers 500 for everything).
//
// Protection: the listener binds to loopback by default, so only this machine can reach it
// (Layotto's tooling posts without credentials). Bound anywhere else, every request must
// carry the L8 admin token ("Authorization: Bearer <token>"), because installing makes the
// runtime read a file path of the caller's choosing and replace functions. A token sent
// on loopback is checked too, so a wrong one is never silently accepted.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { L8Error, toL8Error } from '../../host/errors.ts';
import { tokenMatches } from '../admin/token.ts';
import type { LayottoFunctions } from './functions.ts';

export interface LayottoAdminOptions {
  functions: LayottoFunctions;
  token: string;
  requireToken: boolean;
}

type Body = Record<string, unknown>;

function fail(reply: FastifyReply, error: unknown): FastifyReply {
  const e = toL8Error(error);
  return reply.code(e.status).header('content-type', 'application/json').send({ error: e.message, code: e.code });
}

function name(body: Body): string {
  if (typeof body.name !== 'string' || body.name === '') throw new L8Error('bad_request', `can't get name property: send {"name": "<function id>", ...}`);
  return body.name;
}

function instanceNum(body: Body, required: boolean): number | null {
  const value = body.instance_num;
  if (value === undefined || value === null) {
    if (required) throw new L8Error('bad_request', `can't get instance_num property: send {"name": "...", "instance_num": <number of instances>}`);
    return null;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new L8Error('bad_request', 'instance_num must be a whole number');
  if (required && value <= 0) throw new L8Error('bad_request', 'instance_num should be greater than 0');
  return value > 0 ? value : null;
}

function modulePath(body: Body, required: boolean): string | undefined {
  const vm = body.vm_config as Body | undefined;
  const path = vm && typeof vm === 'object' ? vm.path : undefined;
  if (typeof path === 'string' && path) return path;
  if (required) throw new L8Error('bad_request', 'nil vm config: send "vm_config": {"path": "<file>.wasm"} (a path the runtime can read)');
  return undefined;
}

export async function layottoAdmin(app: FastifyInstance, options: LayottoAdminOptions): Promise<void> {
  const { functions } = options;
  // Layotto's clients send JSON with or without a content type: read every body as text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (presented ? !tokenMatches(options.token, presented) : options.requireToken) {
      return fail(
        reply,
        new L8Error(
          'unauthorized',
          presented
            ? 'wrong admin token: use the one in <data dir>/admin-token or L8_ADMIN_TOKEN of the running runtime'
            : 'this Layotto admin listener is not on loopback, so it needs the L8 admin token: send "Authorization: Bearer <token>" (the token is in <data dir>/admin-token or L8_ADMIN_TOKEN)',
        ),
      );
    }
  });

  const endpoint = (action: (body: Body) => Promise<unknown>) => async (request: { body: unknown }, reply: FastifyReply) => {
    try {
      let body: unknown;
      try {
        body = JSON.parse(typeof request.body === 'string' && request.body ? request.body : 'null');
      } catch (error) {
        throw new L8Error('bad_request', `invalid request body: ${(error as Error).message}`);
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new L8Error('bad_request', 'invalid request body: send a JSON object such as {"name": "id_1"}');
      return reply.code(200).send(await action(body as Body));
    } catch (error) {
      return fail(reply, error);
    }
  };

  app.post('/wasm/install', endpoint(async (body) => {
    const given = name(body);
    return functions.install({ name: given, instanceNum: instanceNum(body, false), path: modulePath(body, true)! }, false);
  }));
  app.post('/wasm/update', endpoint(async (body) => functions.update(name(body), instanceNum(body, true)!, modulePath(body, false))));
  app.post('/wasm/uninstall', endpoint(async (body) => functions.uninstall(name(body))));
  app.setNotFoundHandler((request, reply) =>
    fail(reply, new L8Error('not_found', `no Layotto admin endpoint ${request.method} ${request.url}; there are POST /wasm/install, /wasm/update and /wasm/uninstall`)),
  );
}
