// Under Node 22 only (vitest.node22.config.ts), run by tests/contract/node22-suite.test.ts.
import { sqliteDriverContract } from './sqlite-driver.contract.js';

sqliteDriverContract('node:sqlite');
