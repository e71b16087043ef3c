//! Authentication answers before body validation, as in Rocket.Chat (its route checks the
//! credentials, then validates the parameters). actix extracts a handler's arguments
//! concurrently, so a malformed body that is read at once would otherwise beat a credential
//! check that waits for the store, and which error a client sees would depend on whether the
//! token was cached. The credential extractors open a gate on the request; a body extractor
//! that fails holds its error until the gate has closed, so a refused credential wins.

use actix_web::{HttpMessage, HttpRequest};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Poll, Waker};

/// Whether the credential check has settled, and who waits for it.
#[derive(Default)]
pub struct State {
    settled: Cell<bool>,
    waiter: RefCell<Option<Waker>>,
}

#[derive(Clone)]
struct Gate(Rc<State>);

/// Marks the credential check as settled when dropped (finished, failed or abandoned alike)
/// and wakes the body extractor waiting on it.
pub struct Settled(Rc<State>);

impl Drop for Settled {
    fn drop(&mut self) {
        self.0.settled.set(true);
        if let Some(waker) = self.0.waiter.take() {
            waker.wake();
        }
    }
}

/// Called by a credential extractor as it starts; keep the guard until the check is done.
pub fn open(req: &HttpRequest) -> Settled {
    let state = Rc::new(State::default());
    req.extensions_mut().insert(Gate(state.clone()));
    Settled(state)
}

/// What a body extractor waits on before reporting an error; `None` when no credential
/// extractor came first (anonymous routes).
pub fn waiter(req: &HttpRequest) -> Option<Rc<State>> {
    req.extensions().get::<Gate>().map(|g| g.0.clone())
}

/// Resolves once the credential check has settled.
pub async fn settled(waiter: Option<Rc<State>>) {
    let Some(state) = waiter else { return };
    std::future::poll_fn(|cx| {
        if state.settled.get() {
            return Poll::Ready(());
        }
        *state.waiter.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    })
    .await;
}
