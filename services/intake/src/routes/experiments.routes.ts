import { bearerSecurity, type HttpApp, HttpProblem } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { ExperimentConflict, ExperimentsRepository } from '../repositories/experiments.repository.js';
import {
  CreateExperimentBody,
  ExperimentKeyParams,
  ExperimentSchema,
  PatchExperimentBody,
  problems,
} from './schemas.js';

const conflict = (code: ExperimentConflict, key: string) =>
  code === 'experiment_exists'
    ? new HttpProblem(409, code, `an experiment with key ${key} already exists`)
    : new HttpProblem(409, code, 'another experiment is active; deactivate it first (at most one runs at a time)');
const notFound = (key: string) => new HttpProblem(404, 'not_found', `no experiment ${key}`);

/** Experiments on the window length (CONTRACT §7), admin only. */
export function registerExperimentRoutes(
  app: HttpApp,
  { adminOnly, experiments }: { adminOnly: onRequestAsyncHookHandler; experiments: ExperimentsRepository },
): void {
  const common = { onRequest: adminOnly };
  const tags = ['admin'];

  app.post(
    '/v1/admin/experiments',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        body: CreateExperimentBody,
        response: { 201: ExperimentSchema, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const result = await experiments.create(request.body);
      if (!result.ok) throw conflict(result.code, request.body.key);
      return reply.code(201).header('location', `/v1/admin/experiments/${result.value.key}`).send(result.value);
    },
  );

  app.get(
    '/v1/admin/experiments',
    {
      ...common,
      schema: { tags, security: bearerSecurity, response: { 200: z.array(ExperimentSchema), ...problems(401, 403) } },
    },
    async () => experiments.list(),
  );

  app.get(
    '/v1/admin/experiments/:key',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: ExperimentKeyParams,
        response: { 200: ExperimentSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const found = await experiments.get(request.params.key);
      if (!found) throw notFound(request.params.key);
      return found;
    },
  );

  app.patch(
    '/v1/admin/experiments/:key',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: ExperimentKeyParams,
        body: PatchExperimentBody,
        response: { 200: ExperimentSchema, ...problems(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const result = await experiments.setActive(request.params.key, request.body.active);
      if (!result.ok) throw conflict(result.code, request.params.key);
      if (!result.value) throw notFound(request.params.key);
      return result.value;
    },
  );
}
