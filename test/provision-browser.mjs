#!/usr/bin/env node
// `npm test` runs this first: the report test renders report.html in Debian's Chromium and checks
// that Ethiopic text and emoji get real glyphs, so it needs the browser and fonts for both. When one
// is missing it installs Debian's packages if it may (root or password-less sudo), otherwise it
// stops with the one command to run. It never lets the browser test skip silently.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const covers = (charset) => {
  const r = spawnSync('fc-list', [`:charset=${charset}`, 'family'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
};
const missing = [];
if (!existsSync(chromium)) missing.push('chromium');
if (!covers('1200')) missing.push('fonts-noto-core'); // Ethiopic (Amharic, Tigrinya)
if (!covers('1f30d')) missing.push('fonts-noto-color-emoji'); // emoji (DejaVu has a few, not these)
if (missing.length === 0) process.exit(0);

const root = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = !root && spawnSync('sudo', ['-n', 'true']).status === 0;
const apt = spawnSync('apt-get', ['--version']).status === 0;
const command = `${root ? '' : 'sudo '}apt-get install -y ${missing.join(' ')}`;
if (!apt || (!root && !sudo)) {
  process.stderr.write(
    `The report test renders report.html in Chromium with fonts for Ethiopic and emoji; missing: ${missing.join(', ')}.\n` +
      `Install them with:\n  ${command}\n` +
      (missing.includes('chromium') ? `or set CHROMIUM_PATH to a Chromium or Chrome binary.\n` : ''),
  );
  process.exit(1);
}
process.stderr.write(`npm test: installing ${missing.join(', ')} for the report's browser test (${command})\n`);
const run = (args) => execFileSync(root ? args[0] : 'sudo', root ? args.slice(1) : args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
run(['apt-get', 'update', '-qq']);
run(['apt-get', 'install', '-y', '-qq', ...missing]);
