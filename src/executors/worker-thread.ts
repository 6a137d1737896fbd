import path from 'node:path';
import { PROJECT_ROOT } from '../util/versions.js';

/**
 * What the executors share about their worker threads: where the built worker is (threads run the
 * compiled JavaScript, also when the main thread runs from sources), and how an error crosses the
 * thread boundary (structured clone drops an Error's name and stack).
 */

/** An error as a worker posts it. */
export interface WorkerError {
  name: string;
  message: string;
  stack?: string;
}

/** The built worker file of an executor, `dist/executors/<name>.js`. */
export function builtWorker(name: string): string {
  return path.join(PROJECT_ROOT, 'dist', 'executors', `${name}.js`);
}

export function postableError(err: Error): WorkerError {
  return { name: err.name, message: err.message, stack: err.stack };
}

export function errorFromWorker(e: WorkerError): Error {
  return Object.assign(new Error(e.message), { name: e.name, stack: e.stack });
}

/** The error a pool fails with when one of its threads ends while it still owes results. */
export function threadExited(what: string, code: number): Error {
  return new Error(`a worker thread of ${what} exited (code ${code}); rerun resumes from the last checkpoint, or set --workers 1`);
}
