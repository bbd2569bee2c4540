// Builds the adapter for one configured pluggable component (loaded only when a socket exists).
import type { Component } from '../errors.ts';
import { PluggableConnection } from './connection.ts';
import { PluggablePubSub } from './pubsub.ts';
import { SERVICES } from './services.ts';
import { PluggableStateStore } from './state.ts';

export interface CreateOptions {
  kind: string;
  name: string;
  type: string;
  socket: string;
  services: string[];
  timeoutMs: number;
  properties: Record<string, string>;
}

export function createPluggable(options: CreateOptions): Component {
  const connection = new PluggableConnection({ kind: options.kind, name: options.name, type: options.type, socket: options.socket, timeoutMs: options.timeoutMs });
  if (options.kind === 'state') return new PluggableStateStore({ connection, properties: options.properties, transactional: options.services.includes(SERVICES.transactional) });
  return new PluggablePubSub({ connection, properties: options.properties });
}
