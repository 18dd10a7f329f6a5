#!/usr/bin/env node
// The `relay` command: runs cli/main.ts through tsx, located from this file so it works from any cwd.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../cli/main.ts', import.meta.url).href);
await main();
