// The component grants of a manifest: outbound host patterns (parsing and matching) and
// the strict parsing of `capabilities.outboundHosts` and `capabilities.files`.
import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.ts';
import { OutboundHosts, parseOutboundHost } from './outbound-hosts.ts';

describe('outbound host patterns', () => {
  const allows = (entries: string[], url: string) => {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return new OutboundHosts(entries).allows(u.protocol.slice(0, -1), u.hostname, port);
  };

  it('allows a bare host on the default ports of http and https only', () => {
    expect(allows(['api.example.com'], 'https://api.example.com/x')).toBe(true);
    expect(allows(['api.example.com'], 'http://api.example.com/x')).toBe(true);
    expect(allows(['api.example.com'], 'https://api.example.com:8443/x')).toBe(false);
    expect(allows(['api.example.com'], 'https://other.example.com/x')).toBe(false);
    expect(allows(['API.Example.com'], 'https://api.example.com/')).toBe(true);
  });

  it('honours an explicit scheme and port, and "*" ports', () => {
    expect(allows(['https://api.example.com'], 'http://api.example.com/')).toBe(false);
    expect(allows(['https://api.example.com'], 'https://api.example.com/')).toBe(true);
    expect(allows(['http://localhost:3000'], 'http://localhost:3000/a')).toBe(true);
    expect(allows(['http://localhost:3000'], 'http://localhost:3001/a')).toBe(false);
    expect(allows(['api.example.com:*'], 'http://api.example.com:9999/')).toBe(true);
    expect(allows(['http://127.0.0.1:8080'], 'http://127.0.0.1:8080/')).toBe(true);
    expect(allows(['[::1]:8080'], 'http://[::1]:8080/')).toBe(true);
  });

  it('matches subdomains with "*." but not the domain itself, and everything with "*"', () => {
    expect(allows(['*.example.com'], 'https://a.example.com/')).toBe(true);
    expect(allows(['*.example.com'], 'https://a.b.example.com/')).toBe(true);
    expect(allows(['*.example.com'], 'https://example.com/')).toBe(false);
    expect(allows(['*.example.com'], 'https://badexample.com/')).toBe(false);
    expect(allows(['*'], 'http://anything:1234/')).toBe(true);
    expect(allows([], 'https://api.example.com/')).toBe(false);
  });

  it('refuses entries that are not [scheme://]host[:port], saying why', () => {
    expect(() => parseOutboundHost('ftp://example.com')).toThrow(/only http:\/\/ and https:\/\/ can be allowed, not ftp:\/\//);
    expect(() => parseOutboundHost('https://example.com/path')).toThrow(/without a path, user or query/);
    expect(() => parseOutboundHost('example.com:99999')).toThrow(/port 99999 is not between 1 and 65535/);
    expect(() => parseOutboundHost('exa mple.com')).toThrow(/is not a host name/);
    expect(() => parseOutboundHost('user@example.com')).toThrow(/without a path, user or query/);
  });
});

describe('manifest grants for components', () => {
  it('parses outboundHosts and files with their defaults', () => {
    const manifest = parseManifest({
      name: 'fn',
      capabilities: {
        outboundHosts: ['https://api.example.com'],
        files: [{ host: '/srv/data/', guest: '/data/' }, { host: '/srv/cache', readOnly: false }],
      },
    });
    expect(manifest.capabilities.outboundHosts).toEqual(['https://api.example.com']);
    expect(manifest.capabilities.files).toEqual([
      { host: '/srv/data/', guest: '/data', readOnly: true },
      { host: '/srv/cache', guest: '/srv/cache', readOnly: false },
    ]);
    expect(parseManifest({ name: 'bare' }).capabilities).toMatchObject({ outboundHosts: [], files: [] });
  });

  it('names the field of a bad grant', () => {
    expect(() => parseManifest({ name: 'fn', capabilities: { outboundHosts: ['ftp://x.org'] } })).toThrow(/function "fn" capabilities.outboundHosts\[0\]: "ftp:\/\/x.org": only http/);
    expect(() => parseManifest({ name: 'fn', capabilities: { files: [{ host: 'relative/dir' }] } })).toThrow(/capabilities.files\[0\].host: must be an absolute directory path/);
    expect(() => parseManifest({ name: 'fn', capabilities: { files: [{ host: '/a', guest: 'data' }] } })).toThrow(/capabilities.files\[0\].guest: must be an absolute path/);
    expect(() => parseManifest({ name: 'fn', capabilities: { files: [{ host: '/a', mode: 'rw' }] } })).toThrow(/capabilities.files\[0\]: unknown field "mode"/);
    expect(() => parseManifest({ name: 'fn', capabilities: { files: [{ host: '/a', guest: '/d' }, { host: '/b', guest: '/d/' }] } })).toThrow(/"\/d" is granted twice/);
    expect(() => parseManifest({ name: 'fn', capabilities: { files: [{ host: '/a', readOnly: 'yes' }] } })).toThrow(/readOnly: must be true or false/);
  });
});
