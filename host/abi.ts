// The L8 ABI as data: every import and export of the core-module form of
// abi/wit/faas.wit, with its canonical-ABI core signature. The module checker, the
// linker and the docs test all read this one table, so the ABI is defined once.

export const ABI_PACKAGE = 'l8:faas';

/** Minor versions the host implements, newest last. A module may import any of them. */
export const ABI_VERSIONS = ['0.1.0', '0.2.0'] as const;

export type CoreType = 'i32' | 'i64' | 'f32' | 'f64';

export interface CoreSignature {
  params: CoreType[];
  results: CoreType[];
}

export interface AbiImport {
  /** WIT interface name, e.g. "state". */
  interface: string;
  /** WIT function name, e.g. "get". */
  name: string;
  signature: CoreSignature;
  /** First ABI version that has this function. */
  since: string;
  /** True when the host implementation awaits I/O (linked through JSPI). */
  async: boolean;
}

const i32 = (n: number): CoreType[] => Array.from({ length: n }, () => 'i32' as const);

export const ABI_IMPORTS: readonly AbiImport[] = [
  { interface: 'state', name: 'get', signature: { params: i32(5), results: [] }, since: '0.1.0', async: true },
  { interface: 'state', name: 'set', signature: { params: i32(7), results: [] }, since: '0.1.0', async: true },
  { interface: 'state', name: 'delete', signature: { params: i32(5), results: [] }, since: '0.1.0', async: true },
  { interface: 'pubsub', name: 'publish', signature: { params: i32(9), results: [] }, since: '0.1.0', async: true },
  { interface: 'config', name: 'get', signature: { params: i32(3), results: [] }, since: '0.1.0', async: false },
  { interface: 'invoke', name: 'call', signature: { params: i32(13), results: [] }, since: '0.1.0', async: true },
  { interface: 'log', name: 'write', signature: { params: i32(3), results: [] }, since: '0.1.0', async: false },
  { interface: 'lock', name: 'try-lock', signature: { params: i32(8), results: [] }, since: '0.2.0', async: true },
  { interface: 'lock', name: 'unlock', signature: { params: i32(7), results: [] }, since: '0.2.0', async: true },
  { interface: 'lock', name: 'keep-alive', signature: { params: i32(8), results: [] }, since: '0.2.0', async: true },
  { interface: 'sequencer', name: 'next-id', signature: { params: i32(5), results: [] }, since: '0.2.0', async: true },
];

/** Values of the WIT `lock.unlock-status` enum, in declaration order. */
export const UNLOCK_STATUSES = ['success', 'lock-does-not-exist', 'lock-belongs-to-others'] as const;
export type UnlockStatus = (typeof UNLOCK_STATUSES)[number];

export interface AbiExport {
  interface: string;
  name: string;
  signature: CoreSignature;
}

export const HTTP_HANDLER: AbiExport = {
  interface: 'http-handler',
  name: 'handle',
  signature: { params: i32(10), results: ['i32'] },
};

export const SUBSCRIBER: AbiExport = {
  interface: 'subscriber',
  name: 'on-message',
  signature: { params: i32(10), results: ['i32'] },
};

export const REALLOC_SIGNATURE: CoreSignature = { params: i32(4), results: ['i32'] };
export const POST_RETURN_SIGNATURE: CoreSignature = { params: i32(1), results: [] };

/** Core import module name of an interface at a version: "l8:faas/state@0.1.0". */
export function importModuleName(iface: string, version: string): string {
  return `${ABI_PACKAGE}/${iface}@${version}`;
}

/** Core export name of an exported interface function: "l8:faas/http-handler@0.1.0#handle". */
export function exportName(exp: AbiExport, version: string): string {
  return `${ABI_PACKAGE}/${exp.interface}@${version}#${exp.name}`;
}

export function postReturnName(exp: AbiExport, version: string): string {
  return `cabi_post_${exportName(exp, version)}`;
}

/** Splits "l8:faas/state@0.1.0" into interface and version, or returns null. */
export function parseImportModule(module: string): { interface: string; version: string } | null {
  const match = /^l8:faas\/([a-z][a-z0-9-]*)@(\d+\.\d+\.\d+)$/.exec(module);
  if (!match) return null;
  return { interface: match[1]!, version: match[2]! };
}

/** Error codes of the WIT `error-code` enum, in declaration order (the byte value is the index). */
export const ERROR_CODES = ['denied', 'not-found', 'unavailable', 'invalid', 'conflict', 'internal'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function versionParts(version: string): number[] {
  return version.split('.').map(Number);
}

/** Whether the host implements ABI `version`: one of ABI_VERSIONS, any patch level. */
export function isSupportedVersion(version: string): boolean {
  const [major, minor] = versionParts(version);
  return ABI_VERSIONS.some((v) => {
    const [m, n] = versionParts(v);
    return m === major && n === minor;
  });
}

/** Whether function `imp` exists in ABI `version` (it was added in `since`). */
export function existsInVersion(imp: { since: string }, version: string): boolean {
  const [sm, sn] = versionParts(imp.since);
  const [vm, vn] = versionParts(version);
  return sm === vm && (sn ?? 0) <= (vn ?? 0);
}
