// The abort soak of the agent CLIs as providers: 1,000 requests (by default, split among the four
// CLIs) through a real gateway to Claude Code, Codex, Gemini CLI and opencode — the real binaries
// from .tools/ (bash scripts/install-test-tools.sh) against loopback mocks of their vendors' APIs —
// streamed and not, with random client aborts (before the head, mid-stream, anywhere), upstream
// stalls and the gateway's timeouts. Prints, per CLI, the outcomes, the time from each abort to the
// CLI's model call ending (the mock's socket closed) and to a process group the driver killed for it
// being gone (target: 250 ms), the workers, process groups and memory seen, whether every turn
// settled, and the processes left after the gateway closed (must be none). How it works:
// test/helpers/agent-cli-soak.ts; the test suite runs a smaller one (test/e2e/agent-cli-abort-soak.test.ts).
//
// `npm run soak:agent-clis -- [--requests 1000] [--per-cli N] [--clis claude-code,codex,gemini-cli,opencode] [--seed 14] [--json file]`
// Exits 1 when a process was left behind, a zombie persisted or a turn did not settle.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { availableSoakClis, formatSoakReport, runAbortSoak, SOAK_CLIS, type SoakCli } from '../../test/helpers/agent-cli-soak.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    'per-cli': { type: 'string' },
    clis: { type: 'string', default: SOAK_CLIS.join(',') },
    seed: { type: 'string', default: '14' },
    json: { type: 'string' },
  },
});

const wanted = values.clis.split(',').map((name) => name.trim()).filter((name) => name !== '') as SoakCli[];
const { available, missing } = availableSoakClis(wanted);
for (const reason of missing) console.log(`skipped ${reason}`);
if (available.length === 0) process.exit(0);
const perCli = values['per-cli'] !== undefined ? Number(values['per-cli']) : Math.ceil(Number(values.requests) / available.length);

console.log(`abort soak: ${perCli} requests per CLI over ${available.join(', ')} (seed ${values.seed})`);
const report = await runAbortSoak({ requestsPerCli: perCli, clis: available, seed: Number(values.seed), log: (line) => console.log(line) });
console.log('');
console.log(formatSoakReport(report));
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
const unsettled = report.clis.filter((cli) => cli.settleMs < 0 || cli.partsAfterAbort > 0);
const failed = report.orphans.length > 0 || report.persistentZombies.length > 0 || unsettled.length > 0 || report.egressAttempts > 0;
console.log(failed ? 'FAILED: processes left, zombies, unsettled turns or egress (see above)' : 'no orphan, no zombie, every turn settled');
process.exit(failed ? 1 : 0);
