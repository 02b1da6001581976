/** The app's version, stamped at build time from package.json (see electron.vite.config.ts `define`). */
declare const __SKYDECK_VERSION__: string | undefined;
export const VERSION: string = typeof __SKYDECK_VERSION__ === 'string' ? __SKYDECK_VERSION__ : '0.0.0-dev';
