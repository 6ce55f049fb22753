//! Both ends of a Web Worker that runs [`Job`]s: the page's [`Bridge`] and the worker's
//! [`serve`]. Messages cross as bincode bytes.
//!
//! A worker can fail: its WebAssembly traps (a panic in the engine, memory exhausted) or
//! never loads. The page must hear of it, or a run waits forever for a chunk that will not
//! come. A panic is reported with its message (a `Crashed` reply, posted by the panic hook
//! just before the trap); any other failure reaches the page as the worker's `error` event
//! (the loader, `assets/worker_loader.js`, rethrows a failed load so that it does). The
//! bridge reports the first failure only, with whether the worker had loaded, and the
//! page terminates the worker: an instance that trapped is never used again.

use crate::jobs::{job_with, Done, Job, ScenarioCache};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DedicatedWorkerGlobalScope, ErrorEvent, MessageEvent};

/// A message from a worker to the page.
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    /// The worker's script and WebAssembly are loaded and it listens for jobs.
    Loaded,
    /// A job's answer.
    Done(Done),
    /// The worker panicked (the panic's message); it traps next.
    Crashed(String),
}

/// Why a worker stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// What the browser or the panic said.
    pub message: String,
    /// Whether the worker had loaded (a worker that never did will not load on a retry).
    pub loaded: bool,
}

/// The page's end of one worker: jobs sent before the worker has loaded wait in a queue
/// (a message posted earlier would reach no listener).
pub struct Bridge {
    worker: web_sys::Worker,
    shared: Rc<Shared>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(web_sys::Event)>,
}

/// What the bridge and its event listeners share.
struct Shared {
    /// Messages waiting for the worker to load (`None` once it has).
    queue: RefCell<Option<Vec<js_sys::Uint8Array>>>,
    /// Set by the first failure: later events (the trap after a panic's report, the
    /// answers of a worker being terminated) are ignored.
    failed: Cell<bool>,
}

impl Bridge {
    /// Starts the worker at `path` (a classic script), named `name` (the name the browser's
    /// developer tools show, and the worker's `self.name`). `on_done` receives each answer;
    /// `on_failed` the first failure, after which the bridge sends and reports nothing
    /// (drop it: that terminates the worker). Neither callback may drop this bridge: defer
    /// that to a later task.
    pub fn spawn(
        path: &str,
        name: &str,
        on_done: impl Fn(Done) + 'static,
        on_failed: impl Fn(Failure) + 'static,
    ) -> Result<Bridge, String> {
        let options = web_sys::WorkerOptions::new();
        options.set_name(name);
        let worker = web_sys::Worker::new_with_options(path, &options)
            .map_err(|e| format!("a Web Worker could not be created ({})", js_text(&e)))?;
        let shared = Rc::new(Shared {
            queue: RefCell::new(Some(Vec::new())),
            failed: Cell::new(false),
        });
        let on_failed = Rc::new(on_failed);
        let fail = {
            let shared = Rc::clone(&shared);
            let on_failed = Rc::clone(&on_failed);
            move |message: String| {
                if !shared.failed.replace(true) {
                    let loaded = shared.queue.borrow().is_none();
                    on_failed(Failure { message, loaded });
                }
            }
        };
        let on_message = {
            let worker = worker.clone();
            let shared = Rc::clone(&shared);
            let fail = fail.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                if shared.failed.get() {
                    return;
                }
                let bytes = js_sys::Uint8Array::new(&e.data()).to_vec();
                match bincode::deserialize::<Reply>(&bytes) {
                    Ok(Reply::Loaded) => {
                        let waiting = shared.queue.borrow_mut().take().unwrap_or_default();
                        for m in waiting {
                            if let Err(e) = worker.post_message(&m) {
                                fail(format!(
                                    "a message could not be sent to it ({})",
                                    js_text(&e)
                                ));
                                return;
                            }
                        }
                    }
                    Ok(Reply::Done(d)) => on_done(d),
                    Ok(Reply::Crashed(m)) => fail(m),
                    Err(e) => fail(format!("its answer could not be read ({e})")),
                }
            })
        };
        let on_error = {
            let fail = fail.clone();
            let shared = Rc::clone(&shared);
            // An uncaught error in the worker is an `ErrorEvent`; a script that cannot be
            // fetched fires a plain `Event`, without a message.
            Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
                // Handled here: the browser need not report it again as the page's error.
                e.prevent_default();
                let text = e
                    .dyn_ref::<ErrorEvent>()
                    .map(ErrorEvent::message)
                    .filter(|t| !t.is_empty());
                let loaded = shared.queue.borrow().is_none();
                fail(text.unwrap_or_else(|| {
                    if loaded {
                        "it stopped without a message".into()
                    } else {
                        "its script could not be loaded".into()
                    }
                }));
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Bridge {
            worker,
            shared,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Sends `job` (queued until the worker has loaded). False when the worker has failed
    /// or the message could not be posted.
    pub fn send(&self, job: &Job) -> bool {
        if self.shared.failed.get() {
            return false;
        }
        let Ok(bytes) = bincode::serialize(job) else {
            return false;
        };
        let message = js_sys::Uint8Array::from(bytes.as_slice());
        if let Some(queue) = self.shared.queue.borrow_mut().as_mut() {
            queue.push(message);
            return true;
        }
        self.worker.post_message(&message).is_ok()
    }
}

impl Drop for Bridge {
    /// Terminates the worker (a busy one stops at once) and detaches the listeners first,
    /// so that no event reaches a dropped closure.
    fn drop(&mut self) {
        self.shared.failed.set(true);
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// A JavaScript error's text.
fn js_text(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The worker's end: answers each job with [`job_with`] (keeping the last scenario
/// parsed), timing the simulations, and reports a panic before the trap. Called once by
/// the worker's `main`.
pub fn serve() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(&Reply::Crashed(info.to_string()));
    }));
    let cache = RefCell::new(ScenarioCache::default());
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
        let bytes = js_sys::Uint8Array::new(&e.data()).to_vec();
        let reply = match bincode::deserialize::<Job>(&bytes) {
            Ok(job) => {
                let t0 = js_sys::Date::now();
                let mut out = job_with(&mut cache.borrow_mut(), job);
                if let Done::Chunk { ms, .. } | Done::Part { ms, .. } | Done::Warm { ms, .. } =
                    &mut out
                {
                    *ms = js_sys::Date::now() - t0;
                }
                Reply::Done(out)
            }
            Err(e) => Reply::Crashed(format!("a message from the page could not be read ({e})")),
        };
        post(&reply);
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The listener lives as long as the worker.
    on_message.forget();
    post(&Reply::Loaded);
}

/// Posts `reply` to the page (from the worker).
fn post(reply: &Reply) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if let Ok(bytes) = bincode::serialize(reply) {
        // A message that cannot be posted leaves nothing to report it through.
        let _ = scope.post_message(&js_sys::Uint8Array::from(bytes.as_slice()));
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    //! The bridge against real workers in the browser (`cargo test --target
    //! wasm32-unknown-unknown`): small scripts that speak the protocol by hand.
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// A message's bytes as a JavaScript array literal.
    fn bytes(reply: &Reply) -> String {
        format!("{:?}", bincode::serialize(reply).unwrap())
    }

    /// A worker running `script`, from a `blob:` URL.
    fn script_url(script: &str) -> String {
        let parts = js_sys::Array::of1(&JsValue::from_str(script));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/javascript");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).unwrap();
        web_sys::Url::create_object_url_with_blob(&blob).unwrap()
    }

    async fn sleep(ms: i32) {
        let p = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
    }

    /// Waits up to five seconds for `cell` to be filled.
    async fn wait<T: Clone>(cell: &Rc<RefCell<Option<T>>>) -> T {
        for _ in 0..100 {
            if let Some(v) = cell.borrow().clone() {
                return v;
            }
            sleep(50).await;
        }
        panic!("nothing arrived");
    }

    /// What a test bridge received.
    type Slot<T> = Rc<RefCell<Option<T>>>;

    /// A bridge to `script` that records its answers and its failure.
    fn bridge(script: &str) -> (Bridge, Slot<Done>, Slot<Failure>) {
        let (done, failed) = (Rc::new(RefCell::new(None)), Rc::new(RefCell::new(None)));
        let (d, f) = (Rc::clone(&done), Rc::clone(&failed));
        let b = Bridge::spawn(
            &script_url(script),
            "test",
            move |out| *d.borrow_mut() = Some(out),
            move |failure| {
                assert!(f.borrow().is_none(), "a failure is reported once");
                *f.borrow_mut() = Some(failure);
            },
        )
        .unwrap();
        (b, done, failed)
    }

    #[wasm_bindgen_test]
    async fn jobs_sent_before_the_worker_loads_wait_for_it() {
        // The worker listens only after a while, as one loading its WebAssembly does: a
        // message posted before would be lost.
        let script = format!(
            "setTimeout(() => {{ onmessage = () => postMessage(new Uint8Array({})); \
             postMessage(new Uint8Array({})); }}, 100);",
            bytes(&Reply::Done(Done::Ready)),
            bytes(&Reply::Loaded)
        );
        let (b, done, failed) = bridge(&script);
        assert!(b.send(&Job::Ping));
        assert_eq!(wait(&done).await, Done::Ready);
        assert!(failed.borrow().is_none());
    }

    #[wasm_bindgen_test]
    async fn a_panic_is_reported_with_its_message() {
        let script = format!(
            "postMessage(new Uint8Array({}));",
            bytes(&Reply::Crashed("panicked at engine.rs: boom".into()))
        );
        let (b, _, failed) = bridge(&script);
        let f = wait(&failed).await;
        assert_eq!(f.message, "panicked at engine.rs: boom");
        assert!(!f.loaded);
        assert!(!b.send(&Job::Ping), "a failed worker takes no job");
    }

    #[wasm_bindgen_test]
    async fn a_worker_that_throws_fails_once_with_the_error() {
        // Loaded, then every job throws (as a trapped instance does); the second job is
        // not even sent.
        let script = format!(
            "postMessage(new Uint8Array({})); onmessage = () => {{ throw new Error('trap'); }};",
            bytes(&Reply::Loaded)
        );
        let (b, done, failed) = bridge(&script);
        sleep(200).await;
        assert!(b.send(&Job::Ping));
        let f = wait(&failed).await;
        assert!(f.message.contains("trap"), "{}", f.message);
        assert!(f.loaded);
        assert!(!b.send(&Job::Ping));
        assert!(done.borrow().is_none());
    }

    #[wasm_bindgen_test]
    async fn an_error_event_without_a_message_is_a_failure() {
        // A worker script that cannot be fetched fires a plain `Event` (no message) at the
        // worker; the test runner's own `Worker` fetches scripts differently, so the event
        // is dispatched here by hand, at a worker that has not loaded.
        let (b, _, failed) = bridge("");
        b.worker
            .dispatch_event(&web_sys::Event::new("error").unwrap())
            .unwrap();
        let f = wait(&failed).await;
        assert_eq!(f.message, "its script could not be loaded");
        assert!(!f.loaded);
    }

    #[wasm_bindgen_test]
    async fn an_answer_that_cannot_be_read_is_a_failure() {
        let (_b, _, failed) = bridge("postMessage('not bytes');");
        let f = wait(&failed).await;
        assert!(
            f.message.starts_with("its answer could not be read"),
            "{}",
            f.message
        );
    }
}
