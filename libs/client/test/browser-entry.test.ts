import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type RolldownLog, rolldown } from 'rolldown';
import { describe, expect, it } from 'vitest';

// The package's browser entry, bundled as a browser app would bundle it: nothing it reaches (its
// own files, @dibs/contracts, zod, jose, uuid, eventemitter3) may import a Node built-in.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: { '.': Record<'source' | 'browser' | 'default', string> };
};

async function bundleForBrowsers(input: string) {
  const logs: RolldownLog[] = [];
  const bundle = await rolldown({
    input,
    platform: 'browser',
    // `source` first: the workspace's packages as their TypeScript sources, as vitest reads them.
    resolve: { conditionNames: ['source', 'browser', 'import', 'default'] },
    onLog: (_level, log) => {
      logs.push(log);
    },
  });
  const { output } = await bundle.generate({ format: 'esm' });
  await bundle.close();
  const imports = output.flatMap((c) => (c.type === 'chunk' ? [...c.imports, ...c.dynamicImports] : []));
  const nodeBuiltins = imports.filter((i) => i.startsWith('node:') || builtinModules.includes(i));
  return { imports, nodeBuiltins, logs, code: output.map((c) => (c.type === 'chunk' ? c.code : '')).join('\n') };
}

describe('the browser entry', () => {
  it('is the same file as the Node one', () => {
    expect(pkg.exports['.'].browser).toBe(pkg.exports['.'].default);
  });

  it('bundles for browsers with no Node built-in and nothing left unresolved', async () => {
    const { imports, nodeBuiltins, logs, code } = await bundleForBrowsers(
      fileURLToPath(new URL(`../${pkg.exports['.'].source}`, import.meta.url)),
    );
    expect(nodeBuiltins).toEqual([]);
    expect(imports).toEqual([]);
    expect(logs.filter((l) => l.code === 'UNRESOLVED_IMPORT')).toEqual([]);
    expect(code).not.toMatch(/\bprocess\.|\bBuffer\b|require\(/);
    expect(code).toContain('DibsConnection');
  });

  it('would catch a Node built-in (the check itself works)', async () => {
    const { nodeBuiltins } = await bundleForBrowsers(
      fileURLToPath(new URL('./fixtures/uses-node.ts', import.meta.url)),
    );
    expect(nodeBuiltins).toEqual(['node:crypto']);
  });
});
