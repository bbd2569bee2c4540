// The secrets building block (Layotto's and Dapr's GetSecret/GetBulkSecret): read-only
// named secrets, each a small map of values. Most stores hold one value per secret, under
// the secret's own name ({ "db-password": "..." }); stores that group values (a file
// with multiValued: true, a Kubernetes Secret) return several.
import type { Component } from '../errors.ts';

export type SecretValues = Record<string, string>;

export interface SecretStore extends Component {
  /** The values of secret `name`, or null when the store has no such secret. */
  get(name: string): Promise<SecretValues | null>;
  /** Every secret the store holds, by name. */
  bulkGet(): Promise<Record<string, SecretValues>>;
}
