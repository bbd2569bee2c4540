// What a component may import from L8 and what it must export: the l8:faas world
// (abi/wit/faas.wit) and WASI 0.2 (cli, clocks, filesystem, http, io, random, sockets).
// Checked at deploy time, so a component built for another host fails with the names of
// the imports L8 does not provide instead of at its first request.
import { L8Error } from '../errors.ts';
import { componentInterfaces } from './component-sections.ts';

const L8_ALL = ['0.1', '0.2'];
const L8_SINCE_0_2 = ['0.2'];
const WASI = ['0.2'];

/** Interfaces L8 implements, by "namespace:package/interface", with the major.minor versions it accepts. */
const PROVIDED: Record<string, string[]> = {
  'l8:faas/types': L8_ALL,
  'l8:faas/state': L8_ALL,
  'l8:faas/pubsub': L8_ALL,
  'l8:faas/config': L8_ALL,
  'l8:faas/invoke': L8_ALL,
  'l8:faas/log': L8_ALL,
  'l8:faas/lock': L8_SINCE_0_2,
  'l8:faas/sequencer': L8_SINCE_0_2,
  'wasi:cli/environment': WASI,
  'wasi:cli/exit': WASI,
  'wasi:cli/stdin': WASI,
  'wasi:cli/stdout': WASI,
  'wasi:cli/stderr': WASI,
  'wasi:cli/terminal-input': WASI,
  'wasi:cli/terminal-output': WASI,
  'wasi:cli/terminal-stdin': WASI,
  'wasi:cli/terminal-stdout': WASI,
  'wasi:cli/terminal-stderr': WASI,
  'wasi:clocks/monotonic-clock': WASI,
  'wasi:clocks/wall-clock': WASI,
  'wasi:filesystem/types': WASI,
  'wasi:filesystem/preopens': WASI,
  'wasi:http/types': WASI,
  'wasi:http/outgoing-handler': WASI,
  'wasi:io/error': WASI,
  'wasi:io/poll': WASI,
  'wasi:io/streams': WASI,
  'wasi:random/random': WASI,
  'wasi:random/insecure': WASI,
  'wasi:random/insecure-seed': WASI,
  'wasi:sockets/network': WASI,
  'wasi:sockets/instance-network': WASI,
  'wasi:sockets/ip-name-lookup': WASI,
  'wasi:sockets/tcp': WASI,
  'wasi:sockets/tcp-create-socket': WASI,
  'wasi:sockets/udp': WASI,
  'wasi:sockets/udp-create-socket': WASI,
};

export const HTTP_HANDLER = 'l8:faas/http-handler';
export const SUBSCRIBER = 'l8:faas/subscriber';
export const INCOMING_HANDLER = 'wasi:http/incoming-handler';

/** Exports L8 calls, and the version family each must have. */
const ENTRY_POINTS: Record<string, string[]> = { [HTTP_HANDLER]: L8_ALL, [SUBSCRIBER]: L8_ALL, [INCOMING_HANDLER]: WASI };

/**
 * Imports that may wait for I/O: jco's JSPI mode wraps them in WebAssembly.Suspending, so
 * the guest is suspended while the event loop runs on. Names without version match every
 * version. (WASI's blocking calls are the ones jco itself lists for JSPI.)
 */
export const ASYNC_IMPORTS = [
  'l8:faas/state#get',
  'l8:faas/state#set',
  'l8:faas/state#delete',
  'l8:faas/pubsub#publish',
  'l8:faas/invoke#call',
  'l8:faas/lock#try-lock',
  'l8:faas/lock#unlock',
  'l8:faas/lock#keep-alive',
  'l8:faas/sequencer#next-id',
  'wasi:io/poll#poll',
  'wasi:io/poll#[method]pollable.block',
  'wasi:io/streams#[method]input-stream.blocking-read',
  'wasi:io/streams#[method]input-stream.blocking-skip',
  'wasi:io/streams#[method]output-stream.blocking-flush',
  'wasi:io/streams#[method]output-stream.blocking-write-and-flush',
  'wasi:io/streams#[method]output-stream.blocking-write-zeroes-and-flush',
  'wasi:io/streams#[method]output-stream.blocking-splice',
];

/** The exports L8 calls, each run in a WebAssembly.promising frame. */
export const ASYNC_EXPORTS = [`${HTTP_HANDLER}#handle`, `${SUBSCRIBER}#on-message`, `${INCOMING_HANDLER}#handle`];

export interface ComponentShape {
  imports: string[];
  exports: string[];
  /** Which entry point serves HTTP, if any. */
  http: 'l8' | 'wasi' | null;
  subscriber: boolean;
}

function split(name: string): { iface: string; version: string | null } {
  const at = name.indexOf('@');
  return at === -1 ? { iface: name, version: null } : { iface: name.slice(0, at), version: name.slice(at + 1) };
}

function family(version: string | null, wanted: string[]): boolean {
  if (version === null) return false;
  return wanted.some((w) => version === w || version.startsWith(`${w}.`) || version.startsWith(`${w}-`));
}

const versions = (wanted: string[]) => wanted.map((w) => `${w}.x`).join(' or ');

/** Checks a component's imports and exports against what L8 provides; throws L8Error('invalid_module'). */
export function checkComponent(bytes: Uint8Array): ComponentShape {
  let found;
  try {
    found = componentInterfaces(bytes);
  } catch (error) {
    throw new L8Error('invalid_module', `the component could not be read: ${(error as Error).message}`);
  }
  const missing: string[] = [];
  for (const name of found.imports) {
    const { iface, version } = split(name);
    const wanted = PROVIDED[iface];
    if (!wanted) {
      missing.push(`"${name}"`);
    } else if (!family(version, wanted)) {
      missing.push(`"${name}" (L8 provides ${iface}@${versions(wanted)})`);
    }
  }
  if (missing.length > 0) {
    throw new L8Error(
      'invalid_module',
      `the component imports ${missing.join(', ')}, which L8 does not provide. L8 provides the l8:faas world (0.1: state, pubsub, config, invoke, log; 0.2 adds lock, sequencer) and WASI 0.2 ` +
        'cli, clocks, filesystem, http (types, outgoing-handler), io, random and sockets; rebuild the component without those imports',
    );
  }
  const entries = new Set<string>();
  for (const name of found.exports) {
    const { iface, version } = split(name);
    const wanted = ENTRY_POINTS[iface];
    if (wanted && !family(version, wanted)) {
      throw new L8Error('invalid_module', `the component exports "${name}", but L8 calls ${iface}@${versions(wanted)}; rebuild it against one of those versions`);
    }
    if (wanted) entries.add(iface);
  }
  if (entries.size === 0) {
    throw new L8Error(
      'invalid_module',
      `the component exports ${found.exports.map((e) => `"${e}"`).join(', ') || 'nothing'}, but L8 calls ${HTTP_HANDLER} (handle), ${SUBSCRIBER} (on-message) ` +
        `or ${INCOMING_HANDLER}@0.2 (handle); a command (wasi:cli/run) is not a function`,
    );
  }
  if (entries.has(HTTP_HANDLER) && entries.has(INCOMING_HANDLER)) {
    throw new L8Error('invalid_module', `the component exports both ${HTTP_HANDLER} and ${INCOMING_HANDLER}; export one HTTP entry point`);
  }
  return {
    imports: found.imports,
    exports: found.exports,
    http: entries.has(HTTP_HANDLER) ? 'l8' : entries.has(INCOMING_HANDLER) ? 'wasi' : null,
    subscriber: entries.has(SUBSCRIBER),
  };
}
