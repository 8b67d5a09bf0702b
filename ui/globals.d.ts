// The one global the UI relies on: Tauri injects it because `app.withGlobalTauri` is true.
// Only ui/api.js may use it, so that every IPC failure goes through one normalisation path.
interface Window {
  __TAURI__: {
    core: {
      invoke<T = unknown>(cmd: string, args?: Record<string, unknown>): Promise<T>;
    };
    event: {
      listen<T = unknown>(event: string, handler: (event: { payload: T }) => void): Promise<() => void>;
    };
  };
}
