#!/usr/bin/env node
// The CLI entry runs the compiled code; `npm ci` compiles it through the `prepare` script.
import('../dist/src/cli/index.js').then((cli) => cli.main(process.argv));
