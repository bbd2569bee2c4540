import { describe, expect, it } from 'vitest';
import { parseApiSettings } from './settings.ts';

describe('runtime API settings', () => {
  it('defaults to Layotto\'s ports on loopback', () => {
    expect(parseApiSettings(undefined, {}, {}, 8080)).toEqual({
      host: '127.0.0.1',
      grpcPort: 34904,
      httpPort: 34999,
      appId: 'app',
      appCallback: null,
      appHttp: null,
      apps: {},
      timeoutMs: 10_000,
      deliveryTimeoutMs: 30_000,
    });
  });

  it('picks free ports when the runtime itself runs on port 0 and no API port is set', () => {
    expect(parseApiSettings(undefined, {}, {}, 0)).toMatchObject({ grpcPort: 0, httpPort: 0 });
    expect(parseApiSettings({ grpcPort: 5000 }, {}, {}, 0)).toMatchObject({ grpcPort: 5000, httpPort: 0 });
  });

  it('takes flags over environment over the config section', () => {
    const section = { grpcPort: 1, httpPort: 2, host: '0.0.0.0', appId: 'from-file', appCallback: '127.0.0.1:3' };
    expect(parseApiSettings(section, {}, {}, 8080)).toMatchObject({ grpcPort: 1, httpPort: 2, host: '0.0.0.0', appId: 'from-file', appCallback: '127.0.0.1:3' });
    const env = { L8_GRPC_PORT: '11', L8_API_PORT: '12', L8_APP_ID: 'from-env', L8_APP_CALLBACK: '127.0.0.1:13' };
    expect(parseApiSettings(section, {}, env, 8080)).toMatchObject({ grpcPort: 11, httpPort: 12, appId: 'from-env', appCallback: '127.0.0.1:13' });
    expect(parseApiSettings(section, { 'grpc-port': '21', 'api-port': 'off', 'app-id': 'from-flag' }, env, 8080)).toMatchObject({ grpcPort: 21, httpPort: null, appId: 'from-flag' });
  });

  it('is off with enabled: false', () => {
    expect(parseApiSettings({ enabled: false }, {}, {}, 8080)).toBeNull();
  });

  it('refuses bad values, naming the setting and its flag', () => {
    expect(() => parseApiSettings({ grpcport: 1 }, {}, {}, 8080)).toThrow(/runtimeApi: unknown field "grpcport"/);
    expect(() => parseApiSettings({}, { 'grpc-port': 'x' }, {}, 8080)).toThrow(/runtimeApi\.grpcPort \(--grpc-port, L8_GRPC_PORT\): "x" is not a port number/);
    expect(() => parseApiSettings({}, {}, { L8_APP_CALLBACK: 'http://x' }, 8080)).toThrow(/must be host:port/);
    expect(() => parseApiSettings({}, { 'app-http': '127.0.0.1:3000' }, {}, 8080)).toThrow(/runtimeApi\.appHttp \(--app-http, L8_APP_HTTP\): "127\.0\.0\.1:3000" must be the app's base URL/);
    expect(() => parseApiSettings({ apps: { orders: 'orders:80' } }, {}, {}, 8080)).toThrow(/runtimeApi\.apps\.orders: "orders:80" must be an http/);
    expect(() => parseApiSettings({ appId: 'a b' }, {}, {}, 8080)).toThrow(/runtimeApi\.appId/);
  });
});
