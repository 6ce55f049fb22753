// Starts a simulation worker: the wasm-bindgen script, then its WebAssembly. A load that
// fails is rethrown outside the promise, so that the page receives the worker's `error`
// event (an unhandled rejection in a worker never reaches the page).
importScripts("./worker.js");
wasm_bindgen("./worker_bg.wasm").catch((e) => {
  setTimeout(() => {
    throw e;
  });
});
