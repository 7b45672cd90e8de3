import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { natsNames } from '@dibs/contracts';
import { describe, expect, it } from 'vitest';
import { byKind, type Manifest, named, render, schemaErrors } from './k8s-render.js';
import { repoRoot } from './process-helpers.js';

const SERVICES = { intake: 3000, notification: 3001, routing: 3002, analytics: 3003 } as const;
const overlays = { dev: render('overlays/dev'), prod: render('overlays/prod') };
const source = (rel: string) => readFileSync(path.join(repoRoot, rel), 'utf8');
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.each(Object.entries(overlays))('overlay %s', (overlay, ms) => {
  it('renders and every object validates against the Kubernetes / CRD schemas, offline', async () => {
    expect(ms.length).toBeGreaterThan(20);
    const errors = (await Promise.all(ms.map(schemaErrors))).flat();
    expect(errors).toEqual([]);
  });

  it('inlines no secret: Secrets are referenced, never rendered', () => {
    expect(byKind(ms, 'Secret')).toEqual([]);
    for (const d of [...byKind(ms, 'Deployment'), ...byKind(ms, 'Job')]) {
      for (const c of d.spec.template.spec.containers) {
        for (const e of c.env ?? []) {
          if (/SECRET|PASSWORD|TOKEN|DATABASE_URL/.test(e.name))
            expect(e.valueFrom?.secretKeyRef, `${e.name}`).toBeTruthy();
        }
      }
    }
  });

  describe.each(Object.entries(SERVICES))('service %s', (name, port) => {
    const deployment = named(ms, 'Deployment', name) as Manifest;
    const pod = deployment?.spec.template;
    const container = pod?.spec.containers.find((c: { name: string }) => c.name === name);

    it('has readiness on /readyz, liveness on /healthz, resources, and runs non-root on a read-only root', () => {
      expect(container.args).toEqual([name]);
      expect(container.ports).toContainEqual({ name: 'http', containerPort: port });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits.memory).toEqual(expect.any(String));
      expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(container.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.spec.topologySpreadConstraints.length).toBeGreaterThan(0);
    });

    it('terminates gracefully: the grace period covers preStop plus the service drain', () => {
      const preStop = Number(container.lifecycle.preStop.exec.command[1]);
      const drain = name === 'notification' ? 20 + 5 : 10;
      expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drain + 5);
      expect(deployment.spec.replicas, 'the autoscaler owns replicas').toBeUndefined();
    });

    it('has a Service, a PodDisruptionBudget and its own NetworkPolicy selecting its pods', () => {
      const labels = pod.metadata.labels;
      expect(byKind(ms, 'Service').some((s) => matches(s.spec.selector, labels))).toBe(true);
      const pdb = byKind(ms, 'PodDisruptionBudget').find((p) => matches(p.spec.selector.matchLabels, labels));
      expect(pdb?.spec.maxUnavailable ?? pdb?.spec.minAvailable).toBeDefined();
      const policy = named(ms, 'NetworkPolicy', name);
      expect(matches(policy?.spec.podSelector.matchLabels, labels)).toBe(true);
      const egressPorts = policy?.spec.egress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port));
      expect(new Set(egressPorts)).toEqual(new Set([4222, 5432, 53]));
      const ingressFrom = JSON.stringify(policy?.spec.ingress);
      expect(ingressFrom.includes('ingress-nginx')).toBe(name === 'intake' || name === 'notification');
    });

    it('reads config from the ConfigMap the overlay renders', () => {
      const configMaps = byKind(ms, 'ConfigMap').map((c) => c.metadata.name);
      for (const ref of container.envFrom) expect(configMaps).toContain(ref.configMapRef.name);
    });
  });

  it('scales intake on CPU and the gateway on connections per pod, a metric the gateway exports', () => {
    const intake = named(ms, 'HorizontalPodAutoscaler', 'intake');
    expect(intake?.spec.metrics[0].resource.name).toBe('cpu');
    const gateway = named(ms, 'HorizontalPodAutoscaler', 'notification');
    const metric = gateway?.spec.metrics[0].pods.metric.name;
    expect(metric).toBe('dibs_gateway_connections');
    expect(source('services/notification/src/adapters/gateway.metrics.ts')).toContain(`'${metric}'`);
  });

  it('scales routing and analytics with KEDA on the lag of their own JetStream consumers', () => {
    const config = byKind(ms, 'ConfigMap').find((c) => c.metadata.name.startsWith('dibs-config'));
    const names = natsNames(config?.data.NATS_PREFIX);
    const expected = { routing: names.consumers.routingCreated, analytics: names.consumers.analytics };
    for (const [service, consumer] of Object.entries(expected)) {
      const so = named(ms, 'ScaledObject', service);
      expect(so?.spec.scaleTargetRef.name).toBe(service);
      expect(so?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so?.spec.triggers[0]).toMatchObject({
        type: 'nats-jetstream',
        metadata: { stream: names.streams.events, consumer, account: '$G' },
      });
    }
  });

  it('runs migrations as a Job named after the release tag, once per release', () => {
    const tag = (named(ms, 'Deployment', 'intake')!.spec.template.spec.containers[0].image as string).split(':')[1];
    const job = named(ms, 'Job', `migrate-${tag}`);
    expect(job?.spec.template.spec.containers[0].args).toEqual(['migrate']);
    expect(job?.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('provisions streams with the replicas of its NATS cluster', () => {
    const config = byKind(ms, 'ConfigMap').find((c) => c.metadata.name.startsWith('dibs-config'));
    expect(config?.data.NATS_STREAM_REPLICAS).toBe(overlay === 'prod' ? '3' : '1');
  });
});

describe('production extras', () => {
  const ms = overlays.prod;

  it('runs PostgreSQL as a 3-instance CloudNativePG cluster with backups', () => {
    const cluster = named(ms, 'Cluster', 'dibs-pg');
    expect(cluster?.spec.instances).toBe(3);
    expect(cluster?.spec.plugins).toEqual([
      expect.objectContaining({ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true }),
    ]);
    expect(named(ms, 'ObjectStore', 'dibs-pg-backups')).toBeDefined();
    expect(named(ms, 'ScheduledBackup', 'dibs-pg-nightly')?.spec.cluster.name).toBe('dibs-pg');
  });

  it('alerts on consumer lag, outbox backlog, window lateness, gateway connections and error rates, each with a runbook entry', () => {
    const rules = named(ms, 'PrometheusRule', 'dibs')?.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules);
    const exprs = rules.map((r: { expr: string }) => r.expr).join('\n');
    for (const series of [
      'jetstream_consumer_num_pending',
      'analytics_consumer_pending_messages',
      'dibs_outbox_backlog',
      'routing_window_lateness_seconds_bucket',
      'dibs_gateway_connections',
      'http_request_duration_seconds_count{status=~"5.."}',
    ]) {
      expect(exprs).toContain(series);
    }
    const runbook = source('deploy/README.md');
    for (const rule of rules) {
      expect(rule.annotations.runbook).toBe(`deploy/README.md#${rule.alert.toLowerCase()}`);
      expect(runbook).toContain(`### ${rule.alert}`);
    }
  });

  it('uses only metric names the services export (or NATS / kube-state-metrics series)', () => {
    const exprs: string[] = named(ms, 'PrometheusRule', 'dibs')?.spec.groups.flatMap(
      (g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr),
    );
    const used = new Set(
      exprs
        .flatMap((e) => [
          ...[...e.matchAll(/__name__=~"([^"]+)"/g)].flatMap((m) => m[1].split('|')),
          ...(e.replace(/\{[^}]*\}/g, '').match(/\b(dibs|routing|analytics|http)_[a-z_]+/g) ?? []),
        ])
        .map((m) => m.replace(/_(bucket|count|sum)$/, '')),
    );
    expect(used.size).toBeGreaterThan(5);
    const sources = ['intake', 'routing', 'notification', 'analytics']
      .map((s) => `services/${s}/src`)
      .concat('libs/http/src');
    const exported = sources.flatMap((dir) => {
      const out: string[] = [];
      const walk = (d: string) => {
        for (const entry of readdirSync(path.join(repoRoot, d), { withFileTypes: true })) {
          if (entry.isDirectory()) walk(path.join(d, entry.name));
          else
            out.push(
              ...(source(path.join(d, entry.name)).match(/name: '([a-z_]+)'/g) ?? []).map((m) => m.slice(7, -1)),
            );
        }
      };
      walk(dir);
      return out;
    });
    for (const metric of used) expect(exported, metric).toContain(metric);
  });
});

describe('the offline validator', () => {
  it('rejects what the API server would reject, so a green run means something', async () => {
    const deployment = structuredClone(named(overlays.prod, 'Deployment', 'intake') as Manifest);
    deployment.spec.replicas = 'two';
    expect((await schemaErrors(deployment)).join()).toContain('spec/replicas must be integer');
    const cluster = structuredClone(named(overlays.prod, 'Cluster', 'dibs-pg') as Manifest);
    cluster.spec.instancess = 3;
    expect((await schemaErrors(cluster)).join()).toContain('must NOT have additional properties');
    const so = structuredClone(named(overlays.prod, 'ScaledObject', 'routing') as Manifest);
    delete so.spec.scaleTargetRef;
    expect(await schemaErrors(so)).not.toEqual([]);
    expect(await schemaErrors({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([
      expect.stringContaining('no schema for example.com/v1 Widget'),
    ]);
  });
});

describe('NATS chart values', () => {
  it('ask for a 3-node JetStream cluster that fsyncs every write and exposes monitoring for KEDA', async () => {
    const { parse } = await import('yaml');
    const values = parse(source('deploy/nats/values.yaml'));
    expect(values.config.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(values.config.jetstream).toMatchObject({ enabled: true, merge: { sync_interval: 'always' } });
    expect(values.config.jetstream.fileStore.pvc.enabled).toBe(true);
    expect(values.config.monitor.enabled).toBe(true);
  });
});
