// Loads the app's wasm-bindgen module. A static file (not an inline script) so the
// page's Content-Security-Policy can forbid inline scripts entirely.
const here = new URL(import.meta.url);
const params = here.searchParams;
const js = params.get("js");
const wasm = params.get("wasm");
if (!js || !wasm) {
  throw new Error("boot.js: the page must name the app's js and wasm files");
}
const { default: init } = await import(new URL(js, here).href);
await init({ module_or_path: new URL(wasm, here) });
