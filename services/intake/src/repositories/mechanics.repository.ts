import type { MechanicStatus } from '@dibs/contracts';
import { Mechanic, type Orm } from '@dibs/db';
import { UniqueConstraintViolationException } from '@mikro-orm/core';

export interface MechanicView {
  id: string;
  first_name: string;
  last_name: string;
  email: string;
  status: MechanicStatus;
  priority_window_minutes: number | null;
  created_at: string;
}

export type CreateResult<T> = { ok: true; value: T } | { ok: false; code: 'duplicate_email' };

function view(m: Mechanic): MechanicView {
  return {
    id: m.id,
    first_name: m.first_name,
    last_name: m.last_name,
    email: m.email,
    status: m.status as MechanicStatus,
    priority_window_minutes: m.priority_window_minutes ?? null,
    created_at: new Date(m.created_at).toISOString(),
  };
}

/** Mechanics' profiles (admin-managed). */
export function createMechanicsRepository(orm: Orm) {
  return {
    async create(input: { first_name: string; last_name: string; email: string }): Promise<CreateResult<MechanicView>> {
      const em = orm.em.fork();
      const m = em.create(Mechanic, { ...input, email: input.email.toLowerCase() });
      try {
        await em.flush();
      } catch (err) {
        if (err instanceof UniqueConstraintViolationException) return { ok: false, code: 'duplicate_email' };
        throw err;
      }
      await em.refresh(m);
      return { ok: true, value: view(m) };
    },
    async get(id: string): Promise<MechanicView | undefined> {
      const m = await orm.em.fork().findOne(Mechanic, { id });
      return m ? view(m) : undefined;
    },
    async list(): Promise<MechanicView[]> {
      const rows = await orm.em.fork().find(Mechanic, {}, { orderBy: { created_at: 'desc', id: 'desc' } });
      return rows.map(view);
    },
    /** Changes what `patch` names (an absent field stays as it is); undefined when no such mechanic. */
    async update(
      id: string,
      patch: { status?: MechanicStatus | undefined; priority_window_minutes?: number | null | undefined },
    ): Promise<MechanicView | undefined> {
      const em = orm.em.fork();
      const m = await em.findOne(Mechanic, { id });
      if (!m) return undefined;
      if (patch.status !== undefined) m.status = patch.status;
      if (patch.priority_window_minutes !== undefined) m.priority_window_minutes = patch.priority_window_minutes;
      await em.flush();
      return view(m);
    },
    /** Deletes the mechanic; requests that preferred them keep working (FK sets null). */
    async delete(id: string): Promise<boolean> {
      const deleted = await orm.em.fork().nativeDelete(Mechanic, { id });
      return deleted > 0;
    },
  };
}
export type MechanicsRepository = ReturnType<typeof createMechanicsRepository>;
