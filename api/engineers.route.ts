// The engineer registry in the operator API: list (paged by name), add a public key (creating the
// engineer), remove an engineer or one key; every relay ends a removed engineer's connections.
// Changes are audited with the operator as actor, as the CLI does (the directory writes the entry with the change).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { engineerNameSchema, parseEngineerKey, type Engineer, type EngineerDirectory } from '../shared/store/engineer.store.js';
import { errorAnswers, guarded } from './operator-route.js';
import { nextCursorSchema, pageQuery } from './operator-views.js';
import { pageByName } from './page-by-name.js';

export interface EngineersRouteDeps {
  engineers: EngineerDirectory;
  now: () => number;
}

const tags = ['engineers'];
const engineerViewSchema = z
  .object({
    name: z.string(),
    keys: z.array(z.object({ type: z.string(), fingerprint: z.string(), comment: z.string() })),
    addedAt: z.string(),
  })
  .meta({ id: 'EngineerView' });

function engineerView(e: Engineer): z.infer<typeof engineerViewSchema> {
  return { name: e.name, keys: e.keys.map((k) => ({ type: k.type, fingerprint: k.fingerprint, comment: k.comment })), addedAt: new Date(e.addedAt).toISOString() };
}

export async function engineersRoute(app: FastifyInstance, deps: EngineersRouteDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/v1/engineers',
    guarded('viewer', {
      tags,
      summary: 'Registered engineers and their public keys, by name',
      querystring: z.object(pageQuery),
      response: { 200: z.object({ engineers: z.array(engineerViewSchema), nextCursor: nextCursorSchema }), ...errorAnswers() },
    }),
    async (request) => {
      const page = pageByName(await deps.engineers.list(), request.query);
      return { engineers: page.items.map(engineerView), nextCursor: page.next };
    },
  );

  r.post(
    '/v1/engineers',
    guarded(
      'admin',
      {
        tags,
        summary: 'Register an engineer, or add a public key to one',
        body: z.object({ name: engineerNameSchema, pubkey: z.string().min(20).max(16_384).describe('one OpenSSH public key line') }),
        response: { 201: z.object({ engineer: engineerViewSchema }), ...errorAnswers() },
      },
      { action: 'manage engineers' },
    ),
    async (request, reply) => {
      const key = parseEngineerKey(request.body.pubkey);
      // The key and its `engineer.added` audit entry are written in one step.
      const engineer = await deps.engineers.addKey(request.body.name, key, request.operator.name, deps.now());
      return reply.code(201).send({ engineer: engineerView(engineer) });
    },
  );

  r.delete(
    '/v1/engineers/:name',
    guarded(
      'admin',
      {
        tags,
        summary: "Remove an engineer (or only one key): every relay ends the engineer's connections",
        params: z.object({ name: z.string().min(1).max(64) }),
        querystring: z.object({ key: z.string().min(8).max(128).optional().describe('remove only this key (SHA256:…)') }),
        response: { 200: z.object({ removed: z.string(), key: z.string().optional() }), ...errorAnswers(404) },
      },
      { action: 'manage engineers' },
    ),
    async (request) => {
      const { name } = request.params;
      const { key } = request.query;
      const actor = request.operator.name;
      if (key) {
        if (!(await deps.engineers.removeKey(name, key, actor, deps.now()))) throw new AppError('engineer_not_found', `engineer ${name} has no key ${key}`);
        return { removed: name, key };
      }
      if (!(await deps.engineers.remove(name, actor, deps.now()))) throw new AppError('engineer_not_found', `no engineer named ${name}`);
      return { removed: name };
    },
  );
}
