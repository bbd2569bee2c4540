// Types of transform.js for TypeScript callers (build.ts, tests).
export declare const ABI_VERSION: string;
export declare const HANDLERS: ReadonlyArray<{ register: string; registerFunction: string; exports: Record<string, string> }>;
export declare const ALLOWED_IMPORTS: Record<string, string[]>;
/** An asc transform class (pass it in `transforms` of asc.main, or with --transform). */
declare class L8Transform {
  afterParse(parser: unknown): void;
  afterCompile(module: unknown): void;
}
export default L8Transform;
