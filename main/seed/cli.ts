import { runSeed } from './run';

/** `npm run seed -- …` (built as out/main/seed.js): see run.ts. */
try {
  process.exitCode = runSeed(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) });
} catch (e) {
  process.stderr.write(`Seeding failed: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 1;
}
