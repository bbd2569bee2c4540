// A small, capability-free WASI preview 1 for guests: stdout/stderr become the
// function's log lines, clocks and randomness work, and there is no filesystem, no
// environment, no arguments and no sockets. Every preview 1 name is provided so toolchains
// that import the whole surface (Go, Rust std) link; what is not granted answers an errno.
import { randomFillSync } from 'node:crypto';
import type { GuestMemory } from './guest-memory.ts';

export const WASI_MODULE = 'wasi_snapshot_preview1';

const ERRNO = {
  SUCCESS: 0,
  BADF: 8,
  FAULT: 21,
  INVAL: 28,
  NOSYS: 52,
  SPIPE: 70,
  NOTCAPABLE: 76,
} as const;

/** Every function of wasi_snapshot_preview1. */
export const WASI_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
] as const;

const WASI_SET = new Set<string>(WASI_FUNCTIONS);
export function isWasiFunction(name: string): boolean {
  return WASI_SET.has(name);
}

/** The guest called proc_exit: the request ends with an error naming the exit code. */
export class ProcExit extends Error {
  readonly exitCode: number;
  constructor(code: number) {
    super(`the function called proc_exit(${code}); functions must return from their handler instead of exiting`);
    this.name = 'ProcExit';
    this.exitCode = code;
  }
}

export interface WasiOutput {
  /** One line written by the guest to stdout (fd 1) or stderr (fd 2), without the newline. */
  (stream: 'stdout' | 'stderr', line: string): void;
}

/** Caps what one request may print, so a chatty guest cannot flood the host's logs. */
const MAX_OUTPUT_BYTES_PER_CALL = 1 << 20;
const MAX_LINE_BYTES = 16 << 10;

const CHARACTER_DEVICE = 2;
const RIGHTS_STDIO = (1n << 1n) | (1n << 6n) | (1n << 3n) | (1n << 27n); // fd_read, fd_write, fdstat_set_flags, poll

export class WasiPreview1 {
  private memory: GuestMemory | null = null;
  private output: WasiOutput = () => {};
  private pending: { stdout: number[]; stderr: number[] } = { stdout: [], stderr: [] };
  private written = 0;
  private truncated = false;
  private readonly decoder = new TextDecoder('utf-8');

  /** Binds the instance's memory once it exists. */
  bind(memory: GuestMemory): void {
    this.memory = memory;
  }

  /** Directs output of the call that is about to start. */
  beginCall(output: WasiOutput): void {
    this.output = output;
    this.written = 0;
    this.truncated = false;
  }

  /** Emits partial lines left at the end of a call. */
  endCall(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream].length) this.emit(stream);
    }
    this.output = () => {};
  }

  private mem(): GuestMemory {
    if (!this.memory) throw new Error('WASI used before the instance memory was bound');
    return this.memory;
  }

  private emit(stream: 'stdout' | 'stderr'): void {
    const line = this.decoder.decode(Uint8Array.from(this.pending[stream]));
    this.pending[stream] = [];
    this.output(stream, line);
  }

  private write(stream: 'stdout' | 'stderr', data: Uint8Array): void {
    for (const byte of data) {
      if (this.written >= MAX_OUTPUT_BYTES_PER_CALL) {
        if (!this.truncated) {
          this.truncated = true;
          this.output('stderr', `[l8] output truncated: more than ${MAX_OUTPUT_BYTES_PER_CALL} bytes in one call`);
        }
        return;
      }
      this.written++;
      if (byte === 10) {
        this.emit(stream);
      } else {
        this.pending[stream].push(byte);
        if (this.pending[stream].length >= MAX_LINE_BYTES) this.emit(stream);
      }
    }
  }

  /** The import object for `wasi_snapshot_preview1`. */
  imports(): Record<string, (...args: never[]) => unknown> {
    const m = () => this.mem();
    const nosys = () => ERRNO.NOSYS;
    const badf = () => ERRNO.BADF;
    const notcapable = () => ERRNO.NOTCAPABLE;
    const zeroSizes = (a: number, b: number) => {
      m().writeU32(a, 0);
      m().writeU32(b, 0);
      return ERRNO.SUCCESS;
    };
    const stdio = (fd: number) => fd >= 0 && fd <= 2;
    const writeU64 = (ptr: number, value: bigint) => {
      m().writeU32(ptr, Number(value & 0xffffffffn));
      m().writeU32(ptr + 4, Number(value >> 32n));
    };
    const impl: Record<string, (...args: any[]) => unknown> = {
      args_get: () => ERRNO.SUCCESS,
      args_sizes_get: zeroSizes,
      environ_get: () => ERRNO.SUCCESS,
      environ_sizes_get: zeroSizes,
      clock_res_get: (id: number, ptr: number) => {
        if (id < 0 || id > 3) return ERRNO.INVAL;
        writeU64(ptr, 1000n);
        return ERRNO.SUCCESS;
      },
      clock_time_get: (id: number, _precision: bigint, ptr: number) => {
        if (id === 0) {
          writeU64(ptr, BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)));
        } else if (id >= 1 && id <= 3) {
          writeU64(ptr, process.hrtime.bigint());
        } else {
          return ERRNO.INVAL;
        }
        return ERRNO.SUCCESS;
      },
      fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number) => {
        if (fd !== 1 && fd !== 2) return ERRNO.BADF;
        const mem = m();
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = mem.readU32(iovs + i * 8);
          const len = mem.readU32(iovs + i * 8 + 4);
          const data = mem.readBytes(ptr, len, 'fd_write buffer');
          this.write(fd === 1 ? 'stdout' : 'stderr', data);
          total += len;
        }
        mem.writeU32(nwritten, total);
        return ERRNO.SUCCESS;
      },
      fd_read: (fd: number, _iovs: number, _len: number, nread: number) => {
        if (fd !== 0) return ERRNO.BADF;
        m().writeU32(nread, 0); // stdin is empty
        return ERRNO.SUCCESS;
      },
      fd_close: (fd: number) => (stdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_fdstat_get: (fd: number, ptr: number) => {
        if (!stdio(fd)) return ERRNO.BADF;
        const mem = m();
        mem.writeU8(ptr, CHARACTER_DEVICE);
        mem.writeU8(ptr + 1, 0);
        mem.writeU16(ptr + 2, fd === 0 ? 0 : 1); // fdflags: append on stdout/stderr
        mem.writeU32(ptr + 4, 0);
        writeU64(ptr + 8, RIGHTS_STDIO);
        writeU64(ptr + 16, 0n);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_set_flags: (fd: number) => (stdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_prestat_get: badf, // no preopened directories
      fd_prestat_dir_name: badf,
      fd_seek: (fd: number) => (stdio(fd) ? ERRNO.SPIPE : ERRNO.BADF),
      fd_tell: (fd: number) => (stdio(fd) ? ERRNO.SPIPE : ERRNO.BADF),
      fd_sync: (fd: number) => (stdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_datasync: (fd: number) => (stdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_filestat_get: (fd: number, ptr: number) => {
        if (!stdio(fd)) return ERRNO.BADF;
        const mem = m();
        for (let i = 0; i < 64; i += 4) mem.writeU32(ptr + i, 0);
        mem.writeU8(ptr + 16, CHARACTER_DEVICE);
        return ERRNO.SUCCESS;
      },
      random_get: (ptr: number, len: number) => {
        const mem = m();
        const bytes = mem.u8();
        if (ptr + len > bytes.length) return ERRNO.FAULT;
        mem.markWritten(ptr, len);
        randomFillSync(bytes, ptr, len);
        return ERRNO.SUCCESS;
      },
      sched_yield: () => ERRNO.SUCCESS,
      poll_oneoff: (inPtr: number, outPtr: number, count: number, neventsPtr: number) => {
        // There is nothing to wait for: clock subscriptions fire at once (a sleeping guest
        // spins and is stopped by its timeout), stdio is always ready.
        const mem = m();
        for (let i = 0; i < count; i++) {
          const sub = inPtr + i * 48;
          const event = outPtr + i * 32;
          const tag = mem.readU8(sub + 8);
          for (let j = 0; j < 32; j += 4) mem.writeU32(event + j, 0);
          mem.writeU32(event, mem.readU32(sub));
          mem.writeU32(event + 4, mem.readU32(sub + 4));
          const fd = mem.readU32(sub + 16);
          const error = tag === 0 || stdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF;
          mem.writeU16(event + 8, error);
          mem.writeU8(event + 10, tag);
        }
        mem.writeU32(neventsPtr, count);
        return ERRNO.SUCCESS;
      },
      proc_exit: (code: number) => {
        throw new ProcExit(code);
      },
      proc_raise: nosys,
    };
    for (const name of WASI_FUNCTIONS) {
      if (impl[name]) continue;
      impl[name] = name.startsWith('path_') ? notcapable : name.startsWith('sock_') ? nosys : badf;
    }
    return impl as Record<string, (...args: never[]) => unknown>;
  }
}
