export declare const BUNDLE_FORMAT: number;

/** .build/manifest.json, written by scripts/build-bundle.ts. */
export interface BundleManifest {
  format: number;
  /** The CLI's entry, relative to .build/. */
  entry: string;
  /** [path relative to the package, size, mtimeMs] of every input. */
  inputs: [string, number, number][];
}

export declare function currentBundle(root: string | URL): string | undefined;
