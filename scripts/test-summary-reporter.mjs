// The closing summary of node's test runner (`# tests N`, `# pass N`, `# fail N`...), as the TAP
// reporter prints it and CI reads it, without the thousands of TAP lines before it. `npm test`
// pairs it with the dot reporter, which prints a dot per test (X: failed) and every failure in full.
export default async function* summary(source) {
  let first = true;
  for await (const event of source) {
    if (event.type !== 'test:diagnostic' || event.data.nesting !== 0) continue;
    // The dots end without a newline: the summary starts on its own line.
    yield `${first ? '\n' : ''}# ${event.data.message}\n`;
    first = false;
  }
}
