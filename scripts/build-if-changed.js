// Builds dist/ (the server and the console) unless nothing the build reads has changed since the last
// successful build (npm start and npm test call it; `npm run build` always builds).
// The inputs' fingerprint (path, size and mtime of every file and folder) is kept in dist/.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const INPUTS = [
  'src',
  'migrations',
  'web',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
];
const STAMP = join('dist', '.build-inputs');
const ENTRIES = [join('dist', 'src', 'main.js'), join('dist', 'web', 'index.html')];

function walk(path, lines) {
  if (!existsSync(path)) return;
  const stat = statSync(path);
  lines.push(`${path}\t${stat.size}\t${stat.mtimeMs}`);
  if (stat.isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name), lines);
}

function fingerprint() {
  const lines = [];
  for (const input of INPUTS) walk(input, lines);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

const before = fingerprint();
if (ENTRIES.every((entry) => existsSync(entry)) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === before) {
  process.stdout.write('build: dist/ is up to date with src/, skipped (npm run build forces one)\n');
  process.exit(0);
}
const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (build.status !== 0) process.exit(build.status ?? 1);
// The fingerprint taken before the build: an edit made while it ran triggers the next one.
writeFileSync(STAMP, before);
