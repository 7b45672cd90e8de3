import { bearerSecurity, type HttpApp, HttpProblem } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { CustomersRepository } from '../repositories/customers.repository.js';
import type { FeatureFlagsRepository } from '../repositories/feature-flags.repository.js';
import type { MechanicsRepository } from '../repositories/mechanics.repository.js';
import type { PrioritySettingsRepository } from '../repositories/priority-settings.repository.js';
import {
  CreateCustomerBody,
  CreateMechanicBody,
  CustomerSchema,
  FlagSchema,
  IdParams,
  MechanicSchema,
  PatchFlagBody,
  PatchMechanicBody,
  PatchPrioritySettingsBody,
  PrioritySettingsSchema,
  problems,
} from './schemas.js';

export interface AdminDeps {
  adminOnly: onRequestAsyncHookHandler;
  mechanics: MechanicsRepository;
  customers: CustomersRepository;
  flags: FeatureFlagsRepository;
  settings: PrioritySettingsRepository;
}

const duplicateEmail = () => new HttpProblem(409, 'duplicate_email', 'a profile with this email already exists');

/** Admin routes: mechanics, customers, feature flags (CONTRACT §3), priority settings (§6). */
export function registerAdminRoutes(
  app: HttpApp,
  { adminOnly, mechanics, customers, flags, settings }: AdminDeps,
): void {
  const common = { onRequest: adminOnly };
  const tags = ['admin'];

  app.post(
    '/v1/admin/mechanics',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        body: CreateMechanicBody,
        response: { 201: MechanicSchema, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const result = await mechanics.create(request.body);
      if (!result.ok) throw duplicateEmail();
      return reply.code(201).send(result.value);
    },
  );

  app.get(
    '/v1/admin/mechanics',
    {
      ...common,
      schema: { tags, security: bearerSecurity, response: { 200: z.array(MechanicSchema), ...problems(401, 403) } },
    },
    async () => mechanics.list(),
  );

  app.get(
    '/v1/admin/mechanics/:id',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: IdParams,
        response: { 200: MechanicSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const m = await mechanics.get(request.params.id);
      if (!m) throw new HttpProblem(404, 'not_found', 'no such mechanic');
      return m;
    },
  );

  app.patch(
    '/v1/admin/mechanics/:id',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: IdParams,
        body: PatchMechanicBody,
        response: { 200: MechanicSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const m = await mechanics.update(request.params.id, request.body);
      if (!m) throw new HttpProblem(404, 'not_found', 'no such mechanic');
      return m;
    },
  );

  app.delete(
    '/v1/admin/mechanics/:id',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: IdParams,
        response: { 204: z.null(), ...problems(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await mechanics.delete(request.params.id))) throw new HttpProblem(404, 'not_found', 'no such mechanic');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/admin/customers',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        body: CreateCustomerBody,
        response: { 201: CustomerSchema, ...problems(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const result = await customers.create(request.body);
      if (!result.ok) throw duplicateEmail();
      return reply.code(201).send(result.value);
    },
  );

  app.get(
    '/v1/admin/customers/:id',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: IdParams,
        response: { 200: CustomerSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const c = await customers.get(request.params.id);
      if (!c) throw new HttpProblem(404, 'not_found', 'no such customer');
      return c;
    },
  );

  app.get(
    '/v1/admin/feature-flags',
    {
      ...common,
      schema: { tags, security: bearerSecurity, response: { 200: z.array(FlagSchema), ...problems(401, 403) } },
    },
    async () => flags.list(),
  );

  app.patch(
    '/v1/admin/feature-flags/:flag_key',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: z.strictObject({ flag_key: z.string().min(1).max(100) }),
        body: PatchFlagBody,
        response: { 200: FlagSchema, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const flag = await flags.update(request.params.flag_key, request.body);
      if (!flag) throw new HttpProblem(404, 'not_found', `no flag ${request.params.flag_key}`);
      return flag;
    },
  );

  app.get(
    '/v1/admin/settings/priority',
    {
      ...common,
      schema: { tags, security: bearerSecurity, response: { 200: PrioritySettingsSchema, ...problems(401, 403) } },
    },
    async () => settings.get(),
  );

  app.patch(
    '/v1/admin/settings/priority',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        body: PatchPrioritySettingsBody,
        response: { 200: PrioritySettingsSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => settings.update(request.body),
  );
}
