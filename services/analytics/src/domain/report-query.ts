import { DEFAULT_MIN_PRIORITY_REQUESTS, type ReportQuery } from '@dibs/contracts';

/** The filters of one report, resolved: a half-open range on the request's `created_at`. */
export interface ReportFilter {
  /** Inclusive lower bound on `created_at`, or none. */
  from: Date | null;
  /** Exclusive upper bound on `created_at`, or none. */
  to: Date | null;
  /** Success rate only: mechanics with fewer priority requests are left out (the seed's HAVING). */
  minRequests: number;
}

export function reportFilter(query: ReportQuery): ReportFilter {
  return {
    from: query.from ? new Date(query.from) : null,
    to: query.to ? new Date(query.to) : null,
    minRequests: query.min_requests ?? DEFAULT_MIN_PRIORITY_REQUESTS,
  };
}
