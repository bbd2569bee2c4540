#!/usr/bin/env node
// Entry point of the `l8` command. Plain JavaScript so that an older Node can at least
// say why it cannot run L8 (JSPI needs Node >= 24).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `l8 needs Node.js >= 24 (WebAssembly JSPI); this is ${process.version}.\n` +
      'Run it through npm (npm start, npx l8 ...), which uses the Node 24 installed with the project, or install Node 24.\n',
  );
  process.exit(1);
}
const { main } = await import('../runtime/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
