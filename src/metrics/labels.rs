//! The label sets of tokend's series. Values are `&'static str` constants chosen by code (or
//! a route pattern from the route table) and small numbers: nothing a client sends.

use prometheus_client::encoding::EncodeLabelSet;

/// Which wire protocol a request or login spoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    RocketChat,
    Saymon,
    /// The web UI's files and anything outside both APIs.
    Web,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::RocketChat => "rocketchat",
            Dialect::Saymon => "saymon",
            Dialect::Web => "web",
        }
    }

    /// The dialect a request path belongs to.
    pub fn of_path(path: &str) -> Dialect {
        if crate::api::is_saymon_path(path) {
            Dialect::Saymon
        } else if path.starts_with("/api/") {
            Dialect::RocketChat
        } else {
            Dialect::Web
        }
    }
}

/// Why a password login was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unknown user or wrong password (indistinguishable, by design).
    BadCredentials,
    /// Right password, deactivated account.
    Inactive,
    /// Refused unchecked: too many failures of the account or address.
    Blocked,
    /// Right password, wrong or missing-but-required second factor.
    SecondFactor,
}

impl LoginFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::BadCredentials => "bad_credentials",
            LoginFailure::Inactive => "inactive",
            LoginFailure::Blocked => "blocked",
            LoginFailure::SecondFactor => "second_factor",
        }
    }
}

/// Who minted or revoked a token, relative to its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenActor {
    /// The owner, for their own account.
    Own,
    /// Another user (an administrator) acting on the owner's account.
    Admin,
    /// The operator's command line.
    Cli,
}

impl TokenActor {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenActor::Own => "self",
            TokenActor::Admin => "admin",
            TokenActor::Cli => "cli",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RequestLabels {
    pub dialect: &'static str,
    pub route: &'static str,
    pub method: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RouteLabels {
    pub dialect: &'static str,
    pub route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DialectLabels {
    pub dialect: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct FailureLabels {
    pub dialect: &'static str,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct LockoutLabels {
    pub scope: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct MethodLabels {
    pub method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TokenLabels {
    pub kind: &'static str,
    pub actor: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RateLimitLabels {
    pub dialect: &'static str,
    pub limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct CacheLabels {
    pub cache: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct BuildLabels {
    pub version: &'static str,
}
