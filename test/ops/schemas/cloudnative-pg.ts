// JSON schemas for the CloudNativePG resources deploy/postgres uses: no npm package ships the
// CloudNativePG CRDs, so this is the subset of their OpenAPI (CloudNativePG 1.27 and the Barman
// Cloud plugin 0.x API references) covering the fields we set — strict (unknown fields are errors),
// so a typo or a field from another version fails here instead of at `kubectl apply`.

const str = { type: 'string', minLength: 1 } as const;
const quantity = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$' } as const;
const strict = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties,
  required,
});
const secretKey = strict({ name: str, key: str }, ['name', 'key']);
const resources = strict({
  requests: strict({ cpu: quantity, memory: quantity }),
  limits: strict({ cpu: quantity, memory: quantity }),
});
const metadata = { type: 'object', required: ['name'], properties: { name: str } } as const;
const resource = (apiVersion: string, kind: string, spec: object) =>
  strict({ apiVersion: { const: apiVersion }, kind: { const: kind }, metadata, spec }, [
    'apiVersion',
    'kind',
    'metadata',
    'spec',
  ]);
const compression = { enum: ['bzip2', 'gzip', 'lz4', 'snappy', 'xz', 'zstd'] } as const;

export const cnpgSchemas: Record<string, object> = {
  'postgresql.cnpg.io/v1/Cluster': resource(
    'postgresql.cnpg.io/v1',
    'Cluster',
    strict(
      {
        instances: { type: 'integer', minimum: 1 },
        imageName: str,
        primaryUpdateStrategy: { enum: ['supervised', 'unsupervised'] },
        bootstrap: strict({ initdb: strict({ database: str, owner: str }) }),
        postgresql: strict({
          parameters: { type: 'object', additionalProperties: { type: 'string' } },
          synchronous: strict({ method: { enum: ['any', 'first'] }, number: { type: 'integer', minimum: 1 } }, [
            'method',
            'number',
          ]),
        }),
        storage: strict({ size: quantity, storageClass: str }, ['size']),
        walStorage: strict({ size: quantity, storageClass: str }, ['size']),
        resources,
        affinity: strict({
          enablePodAntiAffinity: { type: 'boolean' },
          topologyKey: str,
          podAntiAffinityType: { enum: ['preferred', 'required'] },
        }),
        monitoring: strict({ enablePodMonitor: { type: 'boolean' } }),
        plugins: {
          type: 'array',
          items: strict(
            {
              name: str,
              enabled: { type: 'boolean' },
              isWALArchiver: { type: 'boolean' },
              parameters: { type: 'object', additionalProperties: { type: 'string' } },
            },
            ['name'],
          ),
        },
      },
      ['instances'],
    ),
  ),
  'postgresql.cnpg.io/v1/ScheduledBackup': resource(
    'postgresql.cnpg.io/v1',
    'ScheduledBackup',
    strict(
      {
        // Six fields, seconds first (robfig/cron with seconds).
        schedule: { type: 'string', pattern: '^\\S+( \\S+){5}$' },
        backupOwnerReference: { enum: ['none', 'self', 'cluster'] },
        immediate: { type: 'boolean' },
        suspend: { type: 'boolean' },
        method: { enum: ['barmanObjectStore', 'volumeSnapshot', 'plugin'] },
        pluginConfiguration: strict(
          { name: str, parameters: { type: 'object', additionalProperties: { type: 'string' } } },
          ['name'],
        ),
        cluster: strict({ name: str }, ['name']),
      },
      ['schedule', 'cluster'],
    ),
  ),
  'barmancloud.cnpg.io/v1/ObjectStore': resource(
    'barmancloud.cnpg.io/v1',
    'ObjectStore',
    strict(
      {
        retentionPolicy: { type: 'string', pattern: '^[1-9][0-9]*[dwm]$' },
        configuration: strict(
          {
            destinationPath: { type: 'string', pattern: '^(s3|gs|https?)://' },
            endpointURL: str,
            s3Credentials: strict({ accessKeyId: secretKey, secretAccessKey: secretKey }),
            wal: strict({ compression, maxParallel: { type: 'integer', minimum: 1 } }),
            data: strict({ compression, jobs: { type: 'integer', minimum: 1 } }),
          },
          ['destinationPath'],
        ),
      },
      ['configuration'],
    ),
  ),
};
