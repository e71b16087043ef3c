//! Authentication answers before body validation, as in Rocket.Chat (its route checks the
//! credentials, then validates the parameters). actix extracts a handler's arguments
//! concurrently, so a malformed body that is read at once would otherwise beat a credential
//! check that waits for the store, and which error a client sees would depend on whether the
//! token was cached. The credential extractors open a gate on the request; a body extractor
//! that fails holds its error until the gate has closed, so a refused credential wins.

use actix_web::{HttpMessage, HttpRequest};
use std::cell::Cell;
use std::rc::Rc;

#[derive(Clone)]
struct Gate(Rc<Cell<bool>>);

/// Marks the credential check as settled when dropped: finished, failed or abandoned alike.
pub struct Settled(Rc<Cell<bool>>);

impl Drop for Settled {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Called by a credential extractor as it starts; keep the guard until the check is done.
pub fn open(req: &HttpRequest) -> Settled {
    let flag = Rc::new(Cell::new(false));
    req.extensions_mut().insert(Gate(flag.clone()));
    Settled(flag)
}

/// What a body extractor waits on before reporting an error; `None` when no credential
/// extractor came first (anonymous routes).
pub fn waiter(req: &HttpRequest) -> Option<Rc<Cell<bool>>> {
    req.extensions().get::<Gate>().map(|g| g.0.clone())
}

/// Resolves once the credential check has settled. Both extractors are polled by the same
/// task: the check's completion wakes it, and the tuple of extractors polls this again.
pub async fn settled(waiter: Option<Rc<Cell<bool>>>) {
    let Some(flag) = waiter else { return };
    std::future::poll_fn(|_| if flag.get() { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }).await;
}
