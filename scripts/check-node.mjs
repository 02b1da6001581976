// Fails early, with a clear message, when npm scripts run on a Node older than the pinned Node 22.
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`Skydeck needs Node.js 22 (found ${process.version}). npm scripts use the Node pinned in devDependencies; run \`npm install\` first.`);
  process.exit(1);
}
console.log(`Node ${process.version} (${process.execPath})`);
