import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config.js';

// Browsers connect from the web console (CONTRACT §8): its origin is allowed by default outside
// production; production lists its origins itself and may not allow every origin.

const origins = (env: Record<string, string>) => loadGatewayConfig(env).GATEWAY_ALLOWED_ORIGINS;

describe('GATEWAY_ALLOWED_ORIGINS', () => {
  it("defaults to the console's origins outside production and to none in production", () => {
    expect(origins({ NODE_ENV: 'development' })).toEqual(['http://localhost:3004', 'http://127.0.0.1:3004']);
    expect(origins({ NODE_ENV: 'test', CONSOLE_PORT: '4100' })).toEqual([
      'http://localhost:4100',
      'http://127.0.0.1:4100',
    ]);
    expect(origins({ NODE_ENV: 'production' })).toEqual([]);
  });

  it('takes a comma list as given, and refuses "*" in production in one line naming the variable', () => {
    expect(origins({ NODE_ENV: 'production', GATEWAY_ALLOWED_ORIGINS: 'https://console.dibs.example/' })).toEqual([
      'https://console.dibs.example',
    ]);
    expect(origins({ NODE_ENV: 'development', GATEWAY_ALLOWED_ORIGINS: '*' })).toEqual(['*']);
    expect(() => loadGatewayConfig({ NODE_ENV: 'production', GATEWAY_ALLOWED_ORIGINS: '*' })).toThrow(
      /^invalid configuration: GATEWAY_ALLOWED_ORIGINS: "\*" \(every origin\) is refused with NODE_ENV=production/,
    );
  });
});
