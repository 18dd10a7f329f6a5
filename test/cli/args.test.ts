import { describe, expect, it } from 'vitest';
import { type CommandSpec, parseCommandArgs } from '../../cli/args.js';
import { jobIdFor } from '../../shared/jobs/ids.js';

const spec: CommandSpec = {
  name: 'status',
  summary: 'test',
  args: '<id…>',
  options: { folder: { type: 'string', value: '<path>', description: 'a folder' } },
  run: async () => 0,
};

/** A real job id that begins with "-" (1 in 64 do). */
function dashId(): string {
  for (let i = 0; ; i++) {
    const id = jobIdFor('u', `https://example.com/${i}`, '');
    if (id.startsWith('-')) return id;
  }
}

describe('relay argument parsing', () => {
  it('takes a job id that begins with "-" as the id it is, beside options, not as options', () => {
    const id = dashId();
    const parsed = parseCommandArgs(spec, [id, '--json', '--folder', id]);
    expect(parsed.positionals).toEqual([id]);
    expect(parsed.values).toMatchObject({ json: true, folder: id });
  });

  it('still refuses an unknown option with a usage error', () => {
    expect(() => parseCommandArgs(spec, ['--nope'])).toThrow(/nope/);
    expect(() => parseCommandArgs(spec, ['-x'])).toThrow();
  });
});
