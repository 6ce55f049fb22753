//! The Web Worker that runs simulation chunks and today's trades off the page's thread.

#[cfg(target_arch = "wasm32")]
fn main() {
    tollbooth_app::workers::serve();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the worker runs in a browser only");
}
