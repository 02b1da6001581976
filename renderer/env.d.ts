/// <reference types="vite/client" />
/// <reference types="element-plus/global" />

import type { PreloadBridge } from '@shared/client';

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent when the renderer is served by the headless server. */
    skydeck?: PreloadBridge;
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

export {};
