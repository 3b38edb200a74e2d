#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliContext } from './context.js';
import { describeFailure } from './errors.js';
import { createProgram } from './program.js';

/** `radar`: parse, run one command, close what it opened, exit with one clear line on failure. */
// `radar digests | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const ctx = new CliContext();
let exitCode = 0;
try {
  await createProgram(ctx).parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander already printed its message (or the help); keep its exit code (0 for --help).
    exitCode = error.exitCode;
  } else {
    process.stderr.write(`radar: error: ${await describeFailure(error)}\n`);
    exitCode = 1;
  }
} finally {
  await ctx.close();
}
process.exitCode = exitCode;
// Sockets that refuse to close (a half-open Redis) must not keep a finished command alive.
setTimeout(() => process.exit(exitCode), 3_000).unref();
