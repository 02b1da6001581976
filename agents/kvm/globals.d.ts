/** Set by scripts/build-agent.mjs (esbuild define); absent when the sources run under Vitest. */
declare const __AGENT_VERSION__: string;
