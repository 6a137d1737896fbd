import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers.js';

// Tests leave nothing behind in the temp folder: every folder made with tempDir() goes when its file ends.
afterAll(removeTempDirs);
