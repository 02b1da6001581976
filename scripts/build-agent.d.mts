export interface BuildAgentOptions {
  /** Output path, absolute or relative to the repository root; default out/agent/skydeck-agent.cjs. */
  outFile?: string;
  /** The agent's version (what agent.hello reports); default package.json's version. */
  version?: string;
}
export interface BuiltAgent {
  outFile: string;
  /** Hex sha256 of the bundle, also written to `${outFile}.sha256`. */
  sha256: string;
  bytes: number;
  ms: number;
}
export function buildAgent(options?: BuildAgentOptions): Promise<BuiltAgent>;
