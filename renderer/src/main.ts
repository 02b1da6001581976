import './zod-config';
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import ElementPlus from 'element-plus';
import 'element-plus/dist/index.css';
import 'element-plus/theme-chalk/dark/css-vars.css';
import './styles.css';
import { i18n, setLocale } from './i18n';
import { applyTheme } from './theme';
import { readCachedPrefs } from './prefs';
import { forgetToken, resolveAccess } from './api/access';
import { httpTransport, initApi, onApiError } from './api';
import { showError } from './notify';
import { createAppRouter } from './router';
import { startLive } from './live';
import { useSettingsStore } from './stores/settings';
import { useSystemStore } from './stores/system';
import { useTasksStore } from './stores/tasks';
import App from './App.vue';
import NoAccessView from './views/NoAccessView.vue';

// Before anything renders: the last known theme and language (the server's settings follow in a moment).
const cached = readCachedPrefs();
applyTheme(cached.theme);
setLocale(cached.locale);

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

const access = resolveAccess({
  hasBridge: typeof window.skydeck === 'object' && window.skydeck !== null,
  href: window.location.href,
  storage: sessionStore(),
  replaceUrl: (url) => window.history.replaceState(window.history.state, '', url),
});

if (access.kind === 'none') {
  createApp(NoAccessView).use(i18n).use(ElementPlus).mount('#app');
} else {
  initApi(access);
  const app = createApp(App);
  app.use(createPinia()).use(createAppRouter()).use(i18n).use(ElementPlus);

  app.config.errorHandler = (err) => {
    console.error(err);
    showError(err);
  };
  window.addEventListener('unhandledrejection', (ev) => {
    ev.preventDefault();
    console.error(ev.reason);
    showError(ev.reason);
  });

  const system = useSystemStore();
  const settings = useSettingsStore();
  const tasks = useTasksStore();
  system.transport = access.kind;

  if (access.kind === 'http') {
    onApiError((e) => {
      if (e.code === 'unauthenticated') {
        forgetToken(sessionStore());
        system.authRefused = true;
        httpTransport()?.close();
      }
    });
  }

  startLive();
  settings.load().catch((e) => showError(e));
  system.loadInfo().catch(() => {});
  tasks.refresh().catch(() => {});
  app.mount('#app');
}
