import { sqliteDriverContract } from './sqlite-driver.contract.js';

sqliteDriverContract('better-sqlite3');
