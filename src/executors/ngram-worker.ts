import { countWindow, type WindowBags } from '../select/importance.js';
import { serveTasks } from './task-pool.js';

/** What an n-gram worker is sent: a window of texts, which of them are flagged, and whether to count them all. */
export interface NgramTask {
  texts: string[];
  flags: Uint8Array;
  all: boolean;
}

/** A worker thread of the select stage's importance model: counts each window's n-grams and moves the bags back. */
serveTasks<NgramTask, WindowBags>(async ({ texts, flags, all }) => {
  const output = countWindow(texts, flags, all);
  return { output, transfer: [output.flagged.buffer as ArrayBuffer, ...(output.all ? [output.all.buffer as ArrayBuffer] : [])] };
});
