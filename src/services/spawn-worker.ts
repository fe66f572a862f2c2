/**
 * Starts a worker thread from a module next to the caller, whether sigil runs compiled (.js) or
 * from source under tsx (.ts: tests, benchmarks, `node --import tsx`). A worker does not inherit
 * tsx's loader hooks, so from source it registers tsx itself before importing the module.
 */
import { Worker } from 'node:worker_threads';

export function spawnWorker(callerUrl: string, moduleBase: string, workerData: unknown): Worker {
  if (callerUrl.endsWith('.ts')) {
    const api = import.meta.resolve('tsx/esm/api');
    const url = new URL(`./${moduleBase}.ts`, callerUrl).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url)}); });`;
    return new Worker(code, { eval: true, workerData, execArgv: [] });
  }
  return new Worker(new URL(`./${moduleBase}.js`, callerUrl), { workerData });
}
