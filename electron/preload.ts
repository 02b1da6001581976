/**
 * The preload of the sandboxed window. A sandboxed preload can only require 'electron', so this file imports types
 * and nothing else from the project. It exposes two functions as `window.skydeck` (shared/client.ts PreloadBridge);
 * ipcRenderer itself never reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { PreloadBridge } from '@shared/client';
import type { SkydeckEvent } from '@shared/events';

// Kept in sync with electron/ipc.ts by a test (importing ipc.ts here would pull main-process code into the preload).
const INVOKE_CHANNEL = 'skydeck:invoke';
const EVENT_CHANNEL = 'skydeck:event';

const bridge: PreloadBridge = {
  invoke: (name, input) => ipcRenderer.invoke(INVOKE_CHANNEL, name, input),
  onEvent(listener) {
    const wrapped = (_event: IpcRendererEvent, ev: SkydeckEvent) => listener(ev);
    ipcRenderer.on(EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('skydeck', bridge);
