// Preloaded into worker processes by `pnpm bench -- --cpu-prof` (NODE_OPTIONS=--import ...;
// node refuses --cpu-prof itself in NODE_OPTIONS). Profiles the whole process and writes the
// profile to $BENCH_CPU_PROFILE when it exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import process from 'node:process';

const target = process.env.BENCH_CPU_PROFILE;
if (target) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // In-thread inspector sessions answer synchronously, so this works inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(target, JSON.stringify(result.profile));
    });
  });
}
