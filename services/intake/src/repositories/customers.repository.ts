import { Customer, type Orm } from '@dibs/db';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { CreateResult } from './mechanics.repository.js';

export interface CustomerView {
  id: string;
  name: string;
  email: string;
  created_at: string;
}

function view(c: Customer): CustomerView {
  return { id: c.id, name: c.name, email: c.email, created_at: new Date(c.created_at).toISOString() };
}

/** Customers' profiles (admin-managed). */
export function createCustomersRepository(orm: Orm) {
  return {
    async create(input: { name: string; email: string }): Promise<CreateResult<CustomerView>> {
      const em = orm.em.fork();
      const c = em.create(Customer, { ...input, email: input.email.toLowerCase() });
      try {
        await em.flush();
      } catch (err) {
        if (err instanceof UniqueConstraintViolationException) return { ok: false, code: 'duplicate_email' };
        throw err;
      }
      await em.refresh(c);
      return { ok: true, value: view(c) };
    },
    async get(id: string): Promise<CustomerView | undefined> {
      const c = await orm.em.fork().findOne(Customer, { id });
      return c ? view(c) : undefined;
    },
  };
}
export type CustomersRepository = ReturnType<typeof createCustomersRepository>;
