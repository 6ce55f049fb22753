//! Entry point of the browser app: mounts [`tollbooth_app::App`] to the page body.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(tollbooth_app::App);
}
