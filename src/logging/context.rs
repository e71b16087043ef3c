//! The request a worker thread is serving right now, so every log line written while serving
//! it (by the core too, which knows nothing of HTTP) carries its request id and, once known,
//! the authenticated user's id. The access middleware enters the context around each poll
//! of the request's future: actix runs one request's handlers on one thread, but interleaves
//! requests, so the context follows the polls, not the thread.

use std::cell::RefCell;
use std::rc::Rc;

pub struct RequestContext {
    id: String,
    user_id: RefCell<Option<String>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RequestContext>>> = const { RefCell::new(None) };
}

impl RequestContext {
    pub fn new(id: String) -> Rc<Self> {
        Rc::new(RequestContext { id, user_id: RefCell::new(None) })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn user_id(&self) -> Option<String> {
        self.user_id.borrow().clone()
    }

    /// Makes `self` the current request of this thread until the guard is dropped.
    pub fn enter(self: &Rc<Self>) -> Entered {
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        Entered { previous }
    }
}

/// The current request stays current until this is dropped; then the previous one is back.
pub struct Entered {
    previous: Option<Rc<RequestContext>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Runs `f` with the request being served, if any.
pub(super) fn with_current(f: impl FnOnce(&RequestContext)) {
    CURRENT.with(|c| {
        if let Some(request) = c.borrow().as_ref() {
            f(request);
        }
    });
}

/// Notes who the request being served authenticated as (a user id, never a name or secret).
pub fn note_user(user_id: &str) {
    with_current(|request| *request.user_id.borrow_mut() = Some(user_id.to_string()));
}
