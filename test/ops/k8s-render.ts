import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './process-helpers.js';
import { cnpgSchemas } from './schemas/cloudnative-pg.js';

/** One rendered object; everything below `metadata` is untyped YAML. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are untyped YAML
  [k: string]: any;
};

/** `kubectl kustomize deploy/<dir>`, parsed. */
export function render(dir: string): Manifest[] {
  const out = execFileSync('kubectl', ['kustomize', path.join(repoRoot, 'deploy', dir)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseAllDocuments(out).map((d) => d.toJSON() as Manifest);
}

// Model packages (kubernetes-models and its CRD siblings) each carry the compiled OpenAPI schema of
// one kind; the package a group lives in:
const MODEL_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};
const ajv = new Ajv({ allErrors: true, strict: true });
const cnpg = new Map<string, ValidateFunction>(Object.entries(cnpgSchemas).map(([k, s]) => [k, ajv.compile(s)]));

/** Validates one manifest against its kind's schema, offline; resolves to the errors (empty when valid). */
export async function schemaErrors(m: Manifest): Promise<string[]> {
  const id = `${m.kind}/${m.metadata?.name}`;
  const custom = cnpg.get(`${m.apiVersion}/${m.kind}`);
  if (custom) {
    return custom(m)
      ? []
      : (custom.errors ?? []).map((e) => `${id}: ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const pkg = MODEL_PACKAGES[group] ?? 'kubernetes-models';
  const modulePath = `${pkg}/${group ? `${group}/` : ''}${version}/${m.kind}`;
  let Model: new (data: unknown) => { validate(): void };
  try {
    Model = (await import(modulePath))[m.kind];
  } catch {
    return [`${id}: no schema for ${m.apiVersion} ${m.kind} (${modulePath})`];
  }
  try {
    new Model(m).validate();
    return [];
  } catch (err) {
    return [`${id}: ${(err as Error).message}`];
  }
}

export const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
export const named = (ms: Manifest[], kind: string, name: string) =>
  ms.find((m) => m.kind === kind && m.metadata.name === name);
