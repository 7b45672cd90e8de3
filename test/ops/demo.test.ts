import { withDatabase } from '@dibs/testing';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { watchNode } from './process-helpers.js';

describe('npm run demo', () => {
  it('tells the whole story, ranked favorites in sequence included, on a private stack, then removes it', async () => {
    const base = inject('dibsDatabaseUrl');
    const run = watchNode(['scripts/demo.mjs'], {
      DATABASE_URL: withDatabase(base, 'dibs'),
      NATS_URL: inject('dibsNatsUrl'),
      DEMO_MINUTE_MS: '200',
      AUTH_JWT_SECRET: undefined,
    });
    const { code } = await run.exited;
    const story = run.lines.map((l) => l.replace(/^ *\d+\.\d+s /, '')).join('\n');
    expect(code, story).toBe(0);
    const timeline = [
      /Ada +│ got a priority offer: "Casey Jones specifically requested you! You have 10 minutes priority access\."/,
      /Ada +│ accepted over her socket → ok/,
      /routing +│ window ended unanswered → broadcast to every approved mechanic \(fallback_reason: priority_timeout\)/,
      /Ben +│ accepted → ok/,
      /Cy +│ is told the request is taken/,
      /Ada +│ declined → ok/,
      /routing +│ broadcast at once, without waiting for the window \(fallback_reason: priority_declined\)/,
      /Cy +│ accepted → ok/,
      /analytics +│ Ada: 1 of 3 priority requests accepted \(33\.33 %\)/,
      /analytics +│ timeouts: 1 of 3 \(33\.33 %\); fallbacks accepted: 2 of 2 \(100 %\)/,
      /Ada +│ her stats: favorited by 1, 1\/3 priority accepted/,
      // Ranked favorites in sequence: Ada is away and skipped, Ben lets tier 2 pass, Cy takes tier 3.
      /Casey +│ added Ben and Cy as favorites too, and ranked them: 1\. Ada, 2\. Ben, 3\. Cy/,
      /Ada +│ says she is away/,
      /Casey +│ booked with routing_type priority_sequence/,
      /Ben +│ got the tier 2 offer \(Ada, away, was skipped\): "Casey Jones specifically requested you! You have 1 minutes priority access\."/,
      /Ben +│ got offer_expired/,
      /Cy +│ got the tier 3 offer: "Casey Jones specifically requested you! You have 10 minutes priority access\."/,
      /Ben +│ tries to accept anyway → priority_window_active/,
      /Cy +│ accepted → ok/,
      /Ada +│ socket got for [0-9a-f]{8}: nothing$/,
      /Ben +│ socket got for [0-9a-f]{8}: priority_session_request \(tier 2\), offer_expired$/,
      /Cy +│ socket got for [0-9a-f]{8}: priority_session_request \(tier 3\)$/,
      /Casey +│ socket got for [0-9a-f]{8}: request_update \(current_tier 2\), request_update \(current_tier 3\), request_update \(accepted\)$/,
      /Casey +│ request [0-9a-f]{8} ends accepted by Cy; offers: tier 1 Ada skipped_unavailable, tier 2 Ben timeout, tier 3 Cy accepted$/,
    ];
    let at = 0;
    for (const step of timeline) {
      const found = run.lines.findIndex((l, i) => i >= at && step.test(l));
      expect(found, `${step} after line ${at} in\n${story}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }

    // Its database is gone again (the NATS streams are removed the same way).
    const database = /\(database (dibs_demo_[0-9a-f]+), removed afterwards\)/.exec(story)?.[1];
    expect(database).toBeDefined();
    const admin = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
    await admin.connect();
    try {
      const left = await admin.query('select 1 from pg_database where datname = $1', [database]);
      expect(left.rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  }, 120_000);
});
