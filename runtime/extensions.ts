// Every extension the runtime knows, started in this order (see extension.ts).
import type { RuntimeExtension } from './extension.ts';

export const EXTENSIONS: RuntimeExtension[] = [];
