// Which hosts a function may send HTTP requests to (manifest `capabilities.outboundHosts`).
// Deny by default; every entry names a host, optionally a scheme and a port:
//
//   api.example.com          http or https on its default port (80 / 443)
//   api.example.com:8443     http or https on port 8443
//   https://api.example.com  https only, port 443
//   http://localhost:3000    http only, port 3000
//   *.example.com            any subdomain of example.com (not example.com itself)
//   api.example.com:*        any port
//   *                        any host, scheme and port (use with care)

export interface OutboundHost {
  /** The entry as written. */
  text: string;
  scheme: 'http' | 'https' | null;
  /** Lower-case host name or IP literal (IPv6 without brackets); "*.x" for a suffix; "*" for any. */
  host: string;
  /** null = the scheme's default port; "*" = any. */
  port: number | '*' | null;
}

const HOST_LABEL = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/;
const DEFAULT_PORT: Record<'http' | 'https', number> = { http: 80, https: 443 };

function validHost(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return /^[0-9a-f:.]+$/.test(host.slice(1, -1));
  const name = host.startsWith('*.') ? host.slice(2) : host;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => HOST_LABEL.test(label));
}

/** Parses one entry; throws an Error whose message says what is wrong with it. */
export function parseOutboundHost(text: string): OutboundHost {
  const entry = text.trim().toLowerCase();
  if (entry === '*') return { text, scheme: null, host: '*', port: '*' };
  let rest = entry;
  let scheme: OutboundHost['scheme'] = null;
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest);
  if (schemeMatch) {
    if (schemeMatch[1] !== 'http' && schemeMatch[1] !== 'https') {
      throw new Error(`"${text}": only http:// and https:// can be allowed, not ${schemeMatch[1]}://`);
    }
    scheme = schemeMatch[1];
    rest = rest.slice(schemeMatch[0].length);
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest.includes('/') || rest.includes('@') || rest.includes('?') || rest.includes('#')) {
    throw new Error(`"${text}" must be [scheme://]host[:port], without a path, user or query`);
  }
  let host = rest;
  let port: OutboundHost['port'] = null;
  const portMatch = /^(.*?):(\d+|\*)$/.exec(rest);
  if (portMatch && !(rest.startsWith('[') && !portMatch[1]!.endsWith(']'))) {
    host = portMatch[1]!;
    if (portMatch[2] === '*') {
      port = '*';
    } else {
      port = Number(portMatch[2]);
      if (port < 1 || port > 65535) throw new Error(`"${text}": port ${port} is not between 1 and 65535`);
    }
  }
  if (!validHost(host)) {
    throw new Error(`"${text}": "${host}" is not a host name, "*.domain" or IP address (use "*" alone to allow every host)`);
  }
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { text, scheme, host, port };
}

/** The parsed allow-list of one function. */
export class OutboundHosts {
  readonly entries: readonly OutboundHost[];

  constructor(entries: readonly string[]) {
    this.entries = entries.map(parseOutboundHost);
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether a request to scheme://host:port is allowed (host without brackets, port explicit). */
  allows(scheme: string, host: string, port: number): boolean {
    const s = scheme.toLowerCase();
    const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    return this.entries.some((e) => {
      if (e.host === '*') return true;
      if (e.scheme !== null && e.scheme !== s) return false;
      if (e.port === null) {
        if (s !== 'http' && s !== 'https') return false;
        if (port !== DEFAULT_PORT[s]) return false;
      } else if (e.port !== '*' && e.port !== port) {
        return false;
      }
      if (e.host.startsWith('*.')) return h.endsWith(e.host.slice(1)) && h.length > e.host.length - 1;
      return e.host === h;
    });
  }
}
