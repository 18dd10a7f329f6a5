import { describe, expect, it } from 'vitest';
import { builtOnFirstUse } from '../../../shared/http/built-on-first-use.js';
import { feedSchemas } from '../../../shared/http/feed-input.js';
import { jobBodySchemas, listQuerySchemas } from '../../../shared/http/job-input.js';
import { targetConfigSchema } from '../../../shared/notify/targets.js';

describe('builtOnFirstUse', () => {
  it('builds nothing until asked, then builds once and returns the same value every time', () => {
    let builds = 0;
    const get = builtOnFirstUse(() => {
      builds += 1;
      return { n: builds };
    });
    expect(builds).toBe(0);
    const first = get();
    expect(get()).toBe(first);
    expect(builds).toBe(1);
  });

  it('keeps a falsy value instead of building it again', () => {
    let builds = 0;
    const get = builtOnFirstUse(() => {
      builds += 1;
      return undefined;
    });
    get();
    get();
    expect(builds).toBe(1);
  });

  it('hands out the same schema objects to every request (the routes and the OpenAPI document agree)', () => {
    expect(jobBodySchemas()).toBe(jobBodySchemas());
    expect(listQuerySchemas().status).toBe(listQuerySchemas().status);
    expect(feedSchemas().create).toBe(feedSchemas().create);
    expect(targetConfigSchema()).toBe(targetConfigSchema());
  });
});
