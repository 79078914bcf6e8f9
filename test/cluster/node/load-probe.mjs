// `node --import ./load-probe.mjs …`: records every module the process loads (see load-probe-hooks.mjs).
import { register } from 'node:module';

register('./load-probe-hooks.mjs', import.meta.url);
