// Host directories granted to a component (manifest `capabilities.files`), served as
// wasi:filesystem descriptors through preview2-shim's portable filesystem, which takes
// an adapter per preopen. Every path a guest names is resolved inside the granted
// directory: absolute paths, ".." above the grant and symbolic links that lead outside
// it are refused ("not-permitted"), and a read-only grant refuses every change
// ("read-only"). Operations are synchronous system calls on local files (microseconds);
// descriptors keep a path, not an open file, so nothing leaks when a guest forgets to
// drop one, but a file renamed under an open descriptor is not followed.
import {
  type Stats,
  closeSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
  constants,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { shim, type FilesystemAdapter } from './preview2-shim.ts';

/** wasi:filesystem error-code cases for Node's errno codes. */
const ERRNO: Record<string, string> = {
  EACCES: 'access', EAGAIN: 'would-block', EBADF: 'bad-descriptor', EBUSY: 'busy', EDQUOT: 'quota', EEXIST: 'exist',
  EFBIG: 'file-too-large', EINVAL: 'invalid', EIO: 'io', EISDIR: 'is-directory', ELOOP: 'loop', EMLINK: 'too-many-links',
  ENAMETOOLONG: 'name-too-long', ENOENT: 'no-entry', ENOSPC: 'insufficient-space', ENOTDIR: 'not-directory',
  ENOTEMPTY: 'not-empty', ENOTSUP: 'unsupported', EPERM: 'not-permitted', EROFS: 'read-only', EXDEV: 'cross-device',
  ESPIPE: 'invalid-seek', ETXTBSY: 'text-file-busy', ENXIO: 'no-such-device', EOVERFLOW: 'overflow',
};

/** The wasi error-code for something a file system call threw. */
function errorCode(error: unknown): string {
  if (typeof error === 'string') return error;
  const code = (error as NodeJS.ErrnoException).code;
  return (code && ERRNO[code]) ?? 'io';
}

/** Runs a file system call, turning Node errors into the wasi error-code the guest expects. */
function fsCall<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw errorCode(error);
  }
}

type DescriptorType = 'directory' | 'regular-file' | 'symbolic-link' | 'fifo' | 'socket' | 'block-device' | 'character-device' | 'unknown';

function typeOf(stats: Stats): DescriptorType {
  if (stats.isFile()) return 'regular-file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symbolic-link';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isBlockDevice()) return 'block-device';
  if (stats.isCharacterDevice()) return 'character-device';
  return 'unknown';
}

function timestamp(ms: number): { seconds: bigint; nanoseconds: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanoseconds: Math.round((ms - seconds * 1000) * 1e6) };
}

function describe(stats: Stats) {
  return {
    type: typeOf(stats),
    linkCount: BigInt(stats.nlink),
    size: BigInt(stats.size),
    dataAccessTimestamp: timestamp(stats.atimeMs),
    dataModificationTimestamp: timestamp(stats.mtimeMs),
    statusChangeTimestamp: timestamp(stats.ctimeMs),
  };
}

function toNumber(value: bigint | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} ${value} is out of range`);
  return n;
}

interface PathFlags {
  symlinkFollow?: boolean;
}
interface OpenFlags {
  create?: boolean;
  directory?: boolean;
  exclusive?: boolean;
  truncate?: boolean;
}
interface DescriptorFlags {
  read?: boolean;
  write?: boolean;
  mutateDirectory?: boolean;
}
type NewTimestamp = { tag: 'no-change' } | { tag: 'now' } | { tag: 'timestamp'; val: { seconds: bigint; nanoseconds: number } };

/** One granted directory. */
export interface Grant {
  host: string;
  readOnly: boolean;
}

/** A file or directory inside a grant, as preview2-shim's Descriptor sees it. */
class NodeDescriptor {
  readonly path: string;
  private readonly root: string;
  private readonly readOnly: boolean;
  private readonly flags: DescriptorFlags;

  constructor(path: string, root: string, readOnly: boolean, flags: DescriptorFlags) {
    this.path = path;
    this.root = root;
    this.readOnly = readOnly;
    this.flags = flags;
  }

  private inside(path: string): boolean {
    return path === this.root || path.startsWith(this.root + sep);
  }

  /**
   * The host path of `guestPath` relative to this descriptor, checked to stay inside the
   * grant. `follow`: whether a symbolic link in the last component is followed.
   */
  private resolvePath(guestPath: string, follow: boolean): string {
    if (guestPath.startsWith('/')) throw 'not-permitted';
    if (guestPath.includes('\0')) throw 'invalid';
    const joined = resolve(this.path, guestPath);
    if (!this.inside(joined)) throw 'not-permitted';
    // Every existing ancestor (and the target itself when followed) must really be
    // inside the grant, whatever symbolic links the path goes through.
    let probe = follow ? joined : dirname(joined);
    for (;;) {
      let real: string | null = null;
      try {
        real = realpathSync(probe);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw errorCode(error);
      }
      if (real !== null) {
        if (!this.inside(real)) throw 'not-permitted';
        return real === probe ? joined : join(real, relative(probe, joined));
      }
      if (probe === this.root) return joined;
      probe = dirname(probe);
    }
  }

  private writable(): void {
    if (this.readOnly) throw 'read-only';
  }

  private child(path: string, flags: DescriptorFlags): NodeDescriptor {
    return new NodeDescriptor(path, this.root, this.readOnly, flags);
  }

  getType(): DescriptorType {
    return fsCall(() => typeOf(lstatSync(this.path)));
  }

  getFlags(): DescriptorFlags {
    return { ...this.flags };
  }

  stat() {
    return fsCall(() => describe(statSync(this.path)));
  }

  statAt(pathFlags: PathFlags, path: string) {
    const target = this.resolvePath(path, !!pathFlags.symlinkFollow);
    return fsCall(() => describe(pathFlags.symlinkFollow ? statSync(target) : lstatSync(target)));
  }

  metadataHash() {
    const stats = fsCall(() => statSync(this.path, { bigint: true }));
    return { upper: stats.dev, lower: stats.ino };
  }

  metadataHashAt(pathFlags: PathFlags, path: string) {
    const target = this.resolvePath(path, !!pathFlags.symlinkFollow);
    const stats = fsCall(() => (pathFlags.symlinkFollow ? statSync(target, { bigint: true }) : lstatSync(target, { bigint: true })));
    return { upper: stats.dev, lower: stats.ino };
  }

  isSameObject(other: NodeDescriptor): boolean {
    return other instanceof NodeDescriptor && other.path === this.path;
  }

  openAt(pathFlags: PathFlags, path: string, openFlags: OpenFlags, flags: DescriptorFlags): NodeDescriptor {
    const wantsChange = !!(flags.write || flags.mutateDirectory || openFlags.create || openFlags.truncate);
    if (wantsChange) this.writable();
    const target = this.resolvePath(path, !!pathFlags.symlinkFollow);
    let stats: Stats | null = null;
    try {
      stats = pathFlags.symlinkFollow ? statSync(target) : lstatSync(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw errorCode(error);
    }
    if (stats && openFlags.create && openFlags.exclusive) throw 'exist';
    if (stats?.isSymbolicLink()) throw 'loop';
    if (!stats) {
      if (!openFlags.create) throw 'no-entry';
      if (openFlags.directory) {
        fsCall(() => mkdirSync(target));
      } else {
        fsCall(() => closeSync(openSync(target, constants.O_CREAT | constants.O_WRONLY | (openFlags.exclusive ? constants.O_EXCL : 0), 0o644)));
      }
    } else {
      if (openFlags.directory && !stats.isDirectory()) throw 'not-directory';
      if (stats.isDirectory() && flags.write) throw 'is-directory';
      if (openFlags.truncate) {
        if (stats.isDirectory()) throw 'is-directory';
        fsCall(() => {
          const fd = openSync(target, 'r+');
          try {
            ftruncateSync(fd, 0);
          } finally {
            closeSync(fd);
          }
        });
      }
    }
    return this.child(target, { read: flags.read ?? false, write: !this.readOnly && !!flags.write, mutateDirectory: !this.readOnly && !!flags.mutateDirectory });
  }

  read(length: bigint, offset: bigint): [Uint8Array, boolean] {
    const len = Math.min(toNumber(length, 'length'), 1 << 26);
    const off = toNumber(offset, 'offset');
    return fsCall(() => {
      const fd = openSync(this.path, 'r');
      try {
        const buffer = new Uint8Array(len);
        const n = len === 0 ? 0 : readSync(fd, buffer, 0, len, off);
        return [buffer.subarray(0, n), n < len] as [Uint8Array, boolean];
      } finally {
        closeSync(fd);
      }
    });
  }

  write(buffer: Uint8Array, offset: bigint): bigint {
    this.writable();
    if (!this.flags.write) throw 'bad-descriptor';
    const off = toNumber(offset, 'offset');
    return fsCall(() => {
      const fd = openSync(this.path, 'r+');
      try {
        return BigInt(writeSync(fd, buffer, 0, buffer.length, off));
      } finally {
        closeSync(fd);
      }
    });
  }

  readViaStream(offset: bigint): unknown {
    if (this.getType() === 'directory') throw 'is-directory';
    let position = toNumber(offset, 'offset');
    return shim.io.inputStreamCreate({
      blockingRead: (len) => {
        const [bytes, end] = this.read(len < 65536n ? len : 65536n, BigInt(position));
        if (bytes.length === 0 && end) throw { tag: 'closed' };
        position += bytes.length;
        return bytes;
      },
    });
  }

  writeViaStream(offset: bigint): unknown {
    this.writable();
    if (this.getType() === 'directory') throw 'is-directory';
    let position = toNumber(offset, 'offset');
    const path = this.path;
    return shim.io.outputStreamCreate({
      write(bytes: Uint8Array) {
        fsCall(() => {
          const fd = openSync(path, 'r+');
          try {
            writeSync(fd, bytes, 0, bytes.length, position);
          } finally {
            closeSync(fd);
          }
        });
        position += bytes.length;
      },
      blockingFlush() {},
    });
  }

  appendViaStream(): unknown {
    return this.writeViaStream(this.stat().size);
  }

  readDirectory() {
    const entries = fsCall(() => readdirSync(this.path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    let next = 0;
    return {
      readDirectoryEntry: () => {
        const entry = entries[next++];
        if (!entry) return undefined;
        const type: DescriptorType = entry.isFile() ? 'regular-file' : entry.isDirectory() ? 'directory' : entry.isSymbolicLink() ? 'symbolic-link' : 'unknown';
        return { name: entry.name, type };
      },
    };
  }

  createDirectoryAt(path: string): void {
    this.writable();
    const target = this.resolvePath(path, false);
    fsCall(() => mkdirSync(target));
  }

  removeDirectoryAt(path: string): void {
    this.writable();
    const target = this.resolvePath(path, false);
    if (target === this.root) throw 'not-permitted';
    fsCall(() => rmdirSync(target));
  }

  unlinkFileAt(path: string): void {
    this.writable();
    const target = this.resolvePath(path, false);
    fsCall(() => {
      if (lstatSync(target).isDirectory()) throw 'is-directory';
      unlinkSync(target);
    });
  }

  renameAt(oldPath: string, newDescriptor: NodeDescriptor, newPath: string): void {
    this.writable();
    if (!(newDescriptor instanceof NodeDescriptor)) throw 'bad-descriptor';
    newDescriptor.writable();
    const from = this.resolvePath(oldPath, false);
    const to = newDescriptor.resolvePath(newPath, false);
    if (from === this.root) throw 'not-permitted';
    fsCall(() => renameSync(from, to));
  }

  linkAt(pathFlags: PathFlags, oldPath: string, newDescriptor: NodeDescriptor, newPath: string): void {
    this.writable();
    if (!(newDescriptor instanceof NodeDescriptor)) throw 'bad-descriptor';
    newDescriptor.writable();
    const from = this.resolvePath(oldPath, !!pathFlags.symlinkFollow);
    const to = newDescriptor.resolvePath(newPath, false);
    fsCall(() => linkSync(from, to));
  }

  symlinkAt(): void {
    // A link's target is interpreted by whoever follows it later, possibly outside the
    // guest's view: creating them is not offered.
    throw this.readOnly ? 'read-only' : 'not-permitted';
  }

  readlinkAt(path: string): string {
    const target = this.resolvePath(path, false);
    return fsCall(() => readlinkSync(target));
  }

  setSize(size: bigint): void {
    this.writable();
    const length = toNumber(size, 'size');
    fsCall(() => {
      const fd = openSync(this.path, 'r+');
      try {
        ftruncateSync(fd, length);
      } finally {
        closeSync(fd);
      }
    });
  }

  private times(path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    this.writable();
    const stats = fsCall(() => statSync(path));
    const pick = (t: NewTimestamp, current: Date) =>
      t.tag === 'no-change' ? current : t.tag === 'now' ? new Date() : new Date(Number(t.val.seconds) * 1000 + t.val.nanoseconds / 1e6);
    fsCall(() => utimesSync(path, pick(atime, stats.atime), pick(mtime, stats.mtime)));
  }

  setTimes(atime: NewTimestamp, mtime: NewTimestamp): void {
    this.times(this.path, atime, mtime);
  }

  setTimesAt(pathFlags: PathFlags, path: string, atime: NewTimestamp, mtime: NewTimestamp): void {
    this.times(this.resolvePath(path, !!pathFlags.symlinkFollow), atime, mtime);
  }

  advise(): void {}
  syncData(): void {}
  sync(): void {}
}

/** preview2-shim filesystem adapter: `getRoot(grant)` makes the preopened directory. */
export class NodeFilesystemAdapter implements FilesystemAdapter {
  getRoot(capability: unknown): NodeDescriptor {
    const grant = capability as Grant;
    let root: string;
    try {
      root = realpathSync(grant.host);
    } catch (error) {
      throw new Error(`the granted directory ${grant.host} does not exist (${(error as Error).message}); create it or fix capabilities.files`);
    }
    if (!statSync(root).isDirectory()) throw new Error(`the granted path ${grant.host} is not a directory; capabilities.files grants directories`);
    return new NodeDescriptor(root, root, grant.readOnly, { read: true, write: !grant.readOnly, mutateDirectory: !grant.readOnly });
  }
}
