import type { Caller } from './api.js';
import type { CallOptions, HttpCall } from './http.js';
import type {
  CreateCustomerBody,
  CreateExperimentBody,
  CreateMechanicBody,
  Customer,
  Experiment,
  FeatureFlag,
  Mechanic,
  PatchFlagBody,
  PatchMechanicBody,
  PatchPrioritySettingsBody,
  Plan,
  PrioritySettings,
  PutPlanBody,
} from './types.js';

const id = (value: string) => encodeURIComponent(value);

/** The admin routes (CONTRACT §3, §6, §7): mechanics, customers, flags, window settings, experiments, plans. */
export function createAdminApi(call: Caller) {
  const send = <T>(
    method: HttpCall['method'],
    path: string,
    opts: CallOptions | undefined,
    body?: unknown,
    // Creating twice is not the same as creating once (409 duplicate_email): no retry after a failure that may have done it.
    retry: HttpCall['retry'] = method === 'POST' ? 'refused_only' : 'idempotent',
  ) => call<T>({ method, path, ...(body === undefined ? {} : { body }), retry, signal: opts?.signal });

  return {
    mechanics: {
      /** A new mechanic, `pending` until approved; 409 `duplicate_email`. */
      create: (body: CreateMechanicBody, opts?: CallOptions) =>
        send<Mechanic>('POST', '/v1/admin/mechanics', opts, body),
      list: (opts?: CallOptions) => send<Mechanic[]>('GET', '/v1/admin/mechanics', opts),
      get: (mechanicId: string, opts?: CallOptions) =>
        send<Mechanic>('GET', `/v1/admin/mechanics/${id(mechanicId)}`, opts),
      /** Approves or suspends, or sets the mechanic's own window (null: the default). */
      update: (mechanicId: string, body: PatchMechanicBody, opts?: CallOptions) =>
        send<Mechanic>('PATCH', `/v1/admin/mechanics/${id(mechanicId)}`, opts, body),
      /** Requests that preferred them keep working. */
      async delete(mechanicId: string, opts?: CallOptions): Promise<void> {
        await send('DELETE', `/v1/admin/mechanics/${id(mechanicId)}`, opts);
      },
    },
    customers: {
      create: (body: CreateCustomerBody, opts?: CallOptions) =>
        send<Customer>('POST', '/v1/admin/customers', opts, body),
      get: (customerId: string, opts?: CallOptions) =>
        send<Customer>('GET', `/v1/admin/customers/${id(customerId)}`, opts),
    },
    flags: {
      list: (opts?: CallOptions) => send<FeatureFlag[]>('GET', '/v1/admin/feature-flags', opts),
      /** Governs requests created ≥ 1 s later, no restart (CONTRACT §3). */
      update: (flagKey: string, body: PatchFlagBody, opts?: CallOptions) =>
        send<FeatureFlag>('PATCH', `/v1/admin/feature-flags/${id(flagKey)}`, opts, body),
    },
    settings: {
      /** The window settings in force (CONTRACT §6). */
      priority: (opts?: CallOptions) => send<PrioritySettings>('GET', '/v1/admin/settings/priority', opts),
      updatePriority: (body: PatchPrioritySettingsBody, opts?: CallOptions) =>
        send<PrioritySettings>('PATCH', '/v1/admin/settings/priority', opts, body),
    },
    experiments: {
      /** 2–4 arms; inactive unless `active: true`; 409 `experiment_exists` / `experiment_active`. */
      create: (body: CreateExperimentBody, opts?: CallOptions) =>
        send<Experiment>('POST', '/v1/admin/experiments', opts, body),
      list: (opts?: CallOptions) => send<Experiment[]>('GET', '/v1/admin/experiments', opts),
      get: (key: string, opts?: CallOptions) => send<Experiment>('GET', `/v1/admin/experiments/${id(key)}`, opts),
      /** At most one is active: activating a second gives 409 `experiment_active`. */
      setActive: (key: string, active: boolean, opts?: CallOptions) =>
        send<Experiment>('PATCH', `/v1/admin/experiments/${id(key)}`, opts, { active }),
    },
    plans: {
      /** Creates or replaces the plan `code` and its price. */
      put: (code: string, body: PutPlanBody, opts?: CallOptions) =>
        send<Plan>('PUT', `/v1/admin/plans/${id(code)}`, opts, body),
      list: (opts?: CallOptions) => send<Plan[]>('GET', '/v1/admin/plans', opts),
    },
  };
}
