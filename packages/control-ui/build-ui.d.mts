/** Bundle the Control UI and WebChat into `outDir` (default this package's dist/ui); resolves with each file's bytes. */
export function buildControlUi(outDir?: string): Promise<Record<string, number>>;
