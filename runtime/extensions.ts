// Every extension the runtime knows, started in this order (see extension.ts).
import { runtimeApiExtension } from './api/extension.ts';
import type { RuntimeExtension } from './extension.ts';
import { jsBuildExtension } from './js-build/extension.ts';
import { kubernetesExtension } from './kubernetes/extension.ts';
import { layottoExtension } from './layotto/extension.ts';

export const EXTENSIONS: RuntimeExtension[] = [runtimeApiExtension, kubernetesExtension, layottoExtension, jsBuildExtension];
