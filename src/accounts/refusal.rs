//! The core's refusals: a rule said no. They know nothing of HTTP; each dialect's error
//! adapter renders them in its own shape and status, naming the rule that refused.

use super::budget::Blocked;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The privilege ceiling: the target account holds `permission`, which the caller lacks.
    Ceiling { permission: String },
    /// The privilege ceiling on grants: the change would give `permission`, which the
    /// caller lacks.
    Grant { permission: String },
    /// A personal access token acts only on accounts strictly less privileged than its
    /// owner: this target holds (or would hold) every permission the owner has, and so could
    /// act on the owner in turn.
    PatReach,
    /// Managing tokens or one's own credentials needs a login, not a personal access token.
    LoginTokenRequired,
    /// The change would leave no active admin.
    LastAdmin,
    /// The target account is deactivated: nothing is minted for it.
    TargetInactive,
    /// Only an administrator (`edit-other-user-info`) may mark an address verified.
    VerifyEmail,
    /// Too many failed secret checks for this account or address.
    Blocked(Blocked),
    /// A read-only token was presented to a route that changes state.
    ReadOnlyToken,
    /// A text holds the NUL character, which the store cannot hold (PostgreSQL text).
    UnstorableText,
    /// The credential the request came with was revoked while the request ran.
    CredentialRevoked,
}

impl Refusal {
    /// The rule, in words for logs and the audit log.
    pub fn rule(&self) -> String {
        match self {
            Refusal::Ceiling { permission } => {
                format!("the privilege ceiling (target holds '{permission}', caller does not)")
            }
            Refusal::Grant { permission } => format!("the privilege ceiling (grants '{permission}', caller lacks it)"),
            Refusal::PatReach => "a personal access token cannot act on an account as privileged as its owner".into(),
            Refusal::LoginTokenRequired => "a personal access token cannot manage tokens or credentials".into(),
            Refusal::LastAdmin => "the last active admin".into(),
            Refusal::TargetInactive => "the target is deactivated".into(),
            Refusal::VerifyEmail => "only an administrator may mark an address verified".into(),
            Refusal::Blocked(Blocked::ByUser) => "too many failed secret checks for the account".into(),
            Refusal::Blocked(Blocked::ByIp) => "too many failed secret checks from the address".into(),
            Refusal::ReadOnlyToken => "a read-only token cannot change anything".into(),
            Refusal::UnstorableText => "a text holds the NUL character, which the store cannot hold".into(),
            Refusal::CredentialRevoked => "the credential was revoked while the request ran".into(),
        }
    }
}

impl From<Refusal> for crate::error::Error {
    fn from(refusal: Refusal) -> Self {
        crate::error::Error::Refused(refusal)
    }
}
