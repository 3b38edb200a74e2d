import type { Infra } from './stack.js';

/** What a scenario hands back: its figures (printed on its one line) and what went wrong. */
export class Outcome {
  readonly figures: [string, string | number][] = [];
  readonly failures: string[] = [];

  figure(name: string, value: string | number): void {
    this.figures.push([name, value]);
  }

  /** Records a failure unless `ok`. Returns `ok` so callers can branch on it. */
  check(ok: boolean, message: string): boolean {
    if (!ok) this.failures.push(message);
    return ok;
  }

  fail(message: string): void {
    this.failures.push(message);
  }
}

export interface ScenarioContext {
  infra: Infra;
  /** Progress notes (stderr, with --verbose): what the scenario is doing now. */
  note(message: string): void;
}

export interface Scenario {
  id: number;
  title: string;
  run(ctx: ScenarioContext, outcome: Outcome): Promise<void>;
}
