/** The CI sweep on 5 voters, and on 1 and 2 voters founded with a learner (see seed-sweep.ts). */
import { sweepSeeds } from './seed-sweep.js';

sweepSeeds(5, 48);
sweepSeeds(1, 8);
sweepSeeds(2, 8);
