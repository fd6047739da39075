/**
 * `stratus journey <request-id>` / `stratus journey --last` / `stratus journey --list`
 * (add `--json` for the raw spans). The CLI wires this into src/cmd.
 * @module
 */
import { formatJourney, formatJourneyList } from './format.js';
import { lastJourneyId, readSpans, selectJourney } from './store.js';

export interface CommandIO {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIO: CommandIO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

export const JOURNEY_USAGE = `Usage: stratus journey <request-id | journey-id>
       stratus journey --last
       stratus journey --list [N]
Options: --json   print the spans as JSON lines instead of the tree
`;

/** Runs the command; resolves to the process exit code. */
export async function journeyCommand(stateDir: string, argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    (args.length === 0 ? io.err : io.out)(JOURNEY_USAGE);
    return args.length === 0 ? 2 : 0;
  }
  const spans = readSpans(stateDir);
  if (args[0] === '--list') {
    const n = args[1] ? Number(args[1]) : 20;
    io.out(formatJourneyList(spans, Number.isFinite(n) && n > 0 ? n : 20));
    return 0;
  }
  let id: string | null;
  if (args[0] === '--last') {
    id = lastJourneyId(stateDir, spans);
    if (!id) {
      io.err(`No journeys recorded in ${stateDir}.\n`);
      return 1;
    }
  } else {
    id = args[0]!;
  }
  const journey = selectJourney(spans, id);
  if (journey.length === 0) {
    io.err(`No journey found for ${id} in ${stateDir}.\n`);
    return 1;
  }
  io.out(json ? journey.map((s) => JSON.stringify(s)).join('\n') + '\n' : formatJourney(journey));
  return 0;
}
