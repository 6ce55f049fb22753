//! The Web Worker that runs simulation chunks and today's trades off the page's thread.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    use gloo_worker::Registrable;
    tollbooth_app::jobs::SimWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser only");
}
