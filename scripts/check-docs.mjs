#!/usr/bin/env node
// `npm run check docs`: the documentation matches the code and holds together.
// 1. docs/options.md is exactly what scripts/options-doc.mjs generates from the options table (fix: `npm run docs`).
// 2. Every relative link in README.md, CONTRIBUTING.md, docs/*.md and deploy/ansible/README.md points to an existing
//    file, and a link to a heading (#anchor) to a heading that exists (GitHub's anchors).
// Runs through tsx (the generator reads the TypeScript sources).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTIONS_DOC, renderOptionsDoc } from './options-doc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];

let current = '';
try {
  current = readFileSync(OPTIONS_DOC, 'utf8');
} catch {
  // missing: reported below as differing
}
if (current !== renderOptionsDoc()) problems.push('docs/options.md differs from what the options table generates: run `npm run docs` and commit it');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2... */
function anchorsOf(text) {
  const seen = new Map();
  const anchors = new Set();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Markdown links outside code: [text](target) and ![alt](target). */
function linksOf(text) {
  const links = [];
  let fenced = false;
  text.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) return;
    const outsideCode = line.replace(/`[^`]*`/g, '');
    for (const m of outsideCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ target: m[1], line: i + 1 });
  });
  return links;
}

const files = [
  'README.md',
  'CONTRIBUTING.md',
  'deploy/ansible/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
for (const file of files) {
  const path = join(root, file);
  if (!existsSync(path)) {
    problems.push(`${file} is missing`);
    continue;
  }
  const text = readFileSync(path, 'utf8');
  for (const { target, line } of linksOf(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    const [pathPart, anchor] = target.split('#');
    const dest = pathPart ? join(dirname(path), decodeURIComponent(pathPart)) : path;
    const where = `${file}:${line}: link ${target}`;
    if (!existsSync(dest)) {
      problems.push(`${where}: no such file ${relative(root, dest)}`);
      continue;
    }
    if (anchor && dest.endsWith('.md') && statSync(dest).isFile() && !anchorsOf(readFileSync(dest, 'utf8')).has(anchor)) {
      problems.push(`${where}: no heading #${anchor} in ${relative(root, dest)}`);
    }
  }
}

for (const p of problems) console.error(p);
process.exitCode = problems.length > 0 ? 1 : 0;
