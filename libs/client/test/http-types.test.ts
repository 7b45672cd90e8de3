import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
// Type-only: the SDK types the HTTP shapes that @dibs/contracts does not hold yet (src/types.ts);
// this file stops type-checking (`tsc -p tsconfig.test.json`, part of `npm test`) when they drift
// from the schemas intake validates and answers with.
import type * as intake from '../../../services/intake/src/routes/schemas.js';
import type { CreateSessionRequestBody } from '../../../services/intake/src/routes/session-requests.routes.js';
import type * as sdk from '../src/index.js';

describe('the SDK types of intake’s HTTP shapes', () => {
  it('match what intake answers', () => {
    expectTypeOf<sdk.Mechanic>().toEqualTypeOf<z.output<typeof intake.MechanicSchema>>();
    expectTypeOf<sdk.Customer>().toEqualTypeOf<z.output<typeof intake.CustomerSchema>>();
    expectTypeOf<sdk.FeatureFlag>().toEqualTypeOf<z.output<typeof intake.FlagSchema>>();
    expectTypeOf<sdk.Favorite>().toEqualTypeOf<z.output<typeof intake.FavoriteSchema>>();
    expectTypeOf<sdk.FavoritedBy>().toEqualTypeOf<z.output<typeof intake.FavoritedBySchema>>();
    expectTypeOf<sdk.PrioritySettings>().toEqualTypeOf<z.output<typeof intake.PrioritySettingsSchema>>();
    expectTypeOf<sdk.Availability>().toEqualTypeOf<z.output<typeof intake.AvailabilitySchema>>();
    expectTypeOf<sdk.Experiment>().toEqualTypeOf<z.output<typeof intake.ExperimentSchema>>();
    expectTypeOf<sdk.Plan>().toEqualTypeOf<z.output<typeof intake.PlanSchema>>();
    expectTypeOf<sdk.Problem>().toEqualTypeOf<z.output<typeof intake.ProblemSchema>>();
  });

  it('match what intake accepts', () => {
    expectTypeOf<sdk.CreateMechanicBody>().toEqualTypeOf<z.input<typeof intake.CreateMechanicBody>>();
    expectTypeOf<sdk.PatchMechanicBody>().toEqualTypeOf<z.input<typeof intake.PatchMechanicBody>>();
    expectTypeOf<sdk.CreateCustomerBody>().toEqualTypeOf<z.input<typeof intake.CreateCustomerBody>>();
    expectTypeOf<sdk.PatchFlagBody>().toEqualTypeOf<z.input<typeof intake.PatchFlagBody>>();
    expectTypeOf<sdk.PatchPrioritySettingsBody>().toEqualTypeOf<z.input<typeof intake.PatchPrioritySettingsBody>>();
    expectTypeOf<sdk.PutAvailabilityBody>().toEqualTypeOf<z.input<typeof intake.PutAvailabilityBody>>();
    expectTypeOf<sdk.CreateExperimentBody>().toEqualTypeOf<z.input<typeof intake.CreateExperimentBody>>();
    expectTypeOf<sdk.PutPlanBody>().toEqualTypeOf<z.input<typeof intake.PutPlanBody>>();
    expectTypeOf<sdk.BookingBody>().toEqualTypeOf<z.input<typeof CreateSessionRequestBody>>();
  });
});
