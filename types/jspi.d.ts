// JavaScript Promise Integration (on by default in Node >= 24) is not in TypeScript's
// lib yet. https://github.com/WebAssembly/js-promise-integration
declare namespace WebAssembly {
  class Suspending {
    constructor(fn: (...args: any[]) => unknown);
  }
  function promising<F extends (...args: any[]) => unknown>(fn: F): (...args: Parameters<F>) => Promise<ReturnType<F>>;
  class SuspendError extends Error {}
}
