import { z } from 'zod';

/**
 * One invalid field of a 400 (CONTRACT §3): where it is (`body`, `querystring`, `params` or
 * `headers`), its dotted path inside it (empty for the whole body), and why.
 */
export const FieldErrorSchema = z.object({ in: z.string(), field: z.string(), message: z.string() });
export type FieldError = z.infer<typeof FieldErrorSchema>;

/** An `application/problem+json` body (RFC 9457): the body of every error dibs answers (CONTRACT §3). */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  /** The stable, machine-readable reason. */
  code: z.string(),
  errors: z.array(FieldErrorSchema).optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
