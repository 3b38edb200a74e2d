import { Option, type Command } from 'commander';
import { intInRange } from '../args.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { formatTime } from '../output.js';
import { describeTickReport, readTickReport } from '../tick-report.js';
import { waitForJob } from '../wait-job.js';

interface TickOptions {
  wait: boolean;
  timeout: number;
  json?: boolean;
}

/**
 * `radar tick`: one tick now, done by a worker exactly like a scheduled one (the tick is
 * idempotent, so racing a scheduled tick is harmless — DESIGN §5 invariant 1). The CLI never
 * runs the tick itself: it would need the worker's locks and config, and a tick that only a
 * worker can run also proves a worker is alive.
 */
export function registerTickCommand(program: Command, ctx: CliContext): void {
  program
    .command('tick')
    .description('ask a worker to run one scheduler tick now and print its report')
    .option('--no-wait', 'add the tick job and return at once')
    .option('--timeout <seconds>', 'how long to wait for a worker to finish the tick', intInRange(1, 3600), 60)
    .addOption(new Option('--json', 'print JSON'))
    .action(async (options: TickOptions) => {
      const queues = await ctx.queues();
      const { manualTickJobId, TICK_JOB, tickJobOptions } = await import('@aharadar/queue');
      const now = ctx.now();
      const jobId = manualTickJobId(now);
      await queues.scheduler.add(TICK_JOB, { manual: true }, { ...tickJobOptions, jobId });
      if (!options.wait) {
        if (options.json) return ctx.out.json({ jobId, state: 'waiting' });
        return ctx.out.line(`tick job ${jobId} added; a worker will run it (see \`radar status\`)`);
      }
      const outcome = await waitForJob(queues.scheduler, jobId, options.timeout * 1000);
      if (outcome.state === 'completed') {
        const report = readTickReport(outcome.job.returnvalue);
        if (options.json) return ctx.out.json({ jobId, state: 'completed', finishedOn: outcome.job.finishedOn ?? null, report });
        ctx.out.line(`tick ${jobId} finished ${formatTime(outcome.job.finishedOn)}`);
        ctx.out.line(report ? describeTickReport(report) : 'the worker returned no report');
        return;
      }
      if (outcome.state === 'failed') {
        throw new CliError(`the tick failed in the worker after ${outcome.job.attemptsMade} attempt(s): ${outcome.job.failedReason}`);
      }
      if (outcome.lastState === 'active') {
        throw new CliError(`a worker took tick ${jobId} but it did not finish within ${options.timeout} s; it keeps running (see \`radar status\`)`);
      }
      if (outcome.lastState === 'delayed') {
        const reason = outcome.job?.failedReason ? `: ${outcome.job.failedReason}` : '';
        throw new CliError(`tick ${jobId} failed and is waiting for a retry${reason}`);
      }
      // Nobody took it: withdraw it, so a worker started next week doesn't run a stale request.
      const removed = outcome.job ? await outcome.job.remove().then(() => true, () => false) : false;
      throw new CliError(
        `no worker picked up the tick within ${options.timeout} s — is a worker running? (queue prefix "${ctx.config().queuePrefix}"${removed ? '; the tick job was withdrawn' : ''})`,
      );
    });
}
