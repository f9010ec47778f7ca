#!/usr/bin/env node
// The published entry point: run the TypeScript CLI through tsx's loader, so
// there is no separate build step between a checkout and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
