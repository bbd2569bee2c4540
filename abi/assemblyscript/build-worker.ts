// A child process that compiles functions for buildFunctions() in build.ts, so several
// modules compile at once (the compiler is single-threaded).
import { buildFunction, type BuildFunctionOptions } from './build.ts';

interface Job {
  id: number;
  sourceFile: string;
  outFile: string;
  options: BuildFunctionOptions;
}

process.on('message', (job: Job) => {
  buildFunction(job.sourceFile, job.outFile, job.options).then(
    (result) => process.send!({ id: job.id, result }),
    (error: Error) => process.send!({ id: job.id, error: error.message }),
  );
});
// Nothing else keeps a child alive once the parent disconnects.
process.on('disconnect', () => process.exit(0));
