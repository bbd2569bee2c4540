// How the CLI talks to a running runtime's admin API: where it is and which token to send.
import { join } from 'node:path';
import { readAdminToken } from '../admin/token.ts';

export class AdminClient {
  readonly baseUrl: string;
  private readonly token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.token = token;
  }

  /** From flags, then L8_ADMIN_URL / L8_ADMIN_PORT / L8_ADMIN_TOKEN / L8_DATA_DIR, then defaults. */
  static fromEnvironment(flags: { adminUrl?: string; dataDir?: string; token?: string }, env = process.env): AdminClient {
    const url = flags.adminUrl ?? env.L8_ADMIN_URL ?? `http://127.0.0.1:${env.L8_ADMIN_PORT ?? '8081'}`;
    const dataDir = flags.dataDir ?? env.L8_DATA_DIR ?? '.l8';
    const token = flags.token ?? readAdminToken(dataDir, env);
    if (!token) {
      throw new Error(`no admin token: set L8_ADMIN_TOKEN, or run this where the runtime's data directory is (${join(dataDir, 'admin-token')} not found; use --data-dir)`);
    }
    return new AdminClient(url, token);
  }

  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array) {
      headers['content-type'] = contentType;
      payload = body as Uint8Array<ArrayBuffer>;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    try {
      return await fetch(`${this.baseUrl}${path}`, { method, headers, body: payload });
    } catch (error) {
      throw new Error(`cannot reach the L8 admin API at ${this.baseUrl} (${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}); is "l8 serve" running? (--admin-url / L8_ADMIN_URL)`);
    }
  }

  /** Sends a request and returns the JSON answer, or throws the API's error message. */
  async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const response = await this.request(method, path, body, contentType);
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const error = (parsed as { error?: { message?: string; code?: string } } | undefined)?.error;
      throw new Error(error?.message ? `${error.message} (${error.code}, HTTP ${response.status})` : `HTTP ${response.status}: ${text}`);
    }
    return parsed as T;
  }
}
