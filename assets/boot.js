// Loads the app's wasm-bindgen module. A static file (not an inline script) so the
// page's Content-Security-Policy can forbid inline scripts entirely.
const here = new URL(import.meta.url);
const params = here.searchParams;
const js = params.get("js");
const wasm = params.get("wasm");
if (!js || !wasm) {
  throw new Error("boot.js: the page must name the app's js and wasm files");
}

// Says on the page why the app cannot start (a browser without what it needs shows an
// explanation, not an empty page).
function cannotStart(text) {
  const p = document.createElement("p");
  p.setAttribute("role", "alert");
  p.dataset.testid = "boot-error";
  p.textContent = text;
  document.body.append(p);
}

// The app and its workers are built with WebAssembly SIMD: a module of one SIMD
// instruction (i8x16.popcnt of a splat) validates only where it is supported.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);
if (typeof WebAssembly !== "object" || !WebAssembly.validate(SIMD_PROBE)) {
  cannotStart(
    "Tollbooth needs a browser with WebAssembly SIMD: Chrome or Edge 91, Firefox 89, Safari 16.4 or later. " +
      "Nothing was computed.",
  );
} else {
  try {
    const { default: init } = await import(new URL(js, here).href);
    await init({ module_or_path: new URL(wasm, here) });
  } catch (e) {
    cannotStart(`Tollbooth could not start in this browser: ${e?.message ?? e}`);
    throw e;
  }
}
