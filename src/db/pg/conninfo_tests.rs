//! `conninfo::split` against the spellings an operator (or an attacker with a say in the
//! conninfo) may use: each must mean what libpq makes of it, or be refused.

use super::*;

#[test]
fn libpq_tls_keys_are_taken_out_of_keyword_conninfos() {
    let (rest, tls) =
        split("host=pg1,pg2 sslmode = verify-full  password='a b\\' c' sslrootcert='/etc/ca dir/ca.pem' dbname=a")
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rest, "host=pg1,pg2 password='a b\\' c' dbname=a");
    assert_eq!(tls.mode, SslMode::VerifyFull);
    assert_eq!(tls.roots, Some(Roots::File("/etc/ca dir/ca.pem".into())));
}

#[test]
fn and_out_of_url_queries() {
    let (rest, tls) = split("postgresql://u:p%3F@a,b/db?sslmode=require&target_session_attrs=read-write").unwrap();
    assert_eq!(rest, "postgresql://u:p%3F@a,b/db?target_session_attrs=read-write");
    assert_eq!(tls, TlsSettings { mode: SslMode::Require, roots: None });
    let (rest, tls) = split("postgres://a/db?sslrootcert=system&sslmode=verify-full").unwrap();
    assert_eq!(rest, "postgres://a/db");
    assert_eq!(tls, TlsSettings { mode: SslMode::VerifyFull, roots: Some(Roots::System) });
}

#[test]
fn the_default_is_prefer_and_allow_reads_as_prefer() {
    assert_eq!(split("host=a").unwrap().1.mode, SslMode::Prefer);
    assert_eq!(split("host=a sslmode=allow").unwrap().1.mode, SslMode::Prefer);
    assert_eq!(split("host=a sslmode=disable").unwrap().1.mode, SslMode::Disable);
}

#[test]
fn what_cannot_be_honoured_is_refused_by_key_never_by_value() {
    let refused = |s: &str| split(s).unwrap_err();
    assert!(refused("host=a sslmode=verify-full").contains("sslrootcert"));
    assert!(refused("host=a sslmode=strict").contains("`sslmode`"));
    assert!(refused("host=a sslcert=/c.pem").contains("client certificates"));
    assert!(refused("host=a sslkey=/k.pem").contains("client certificates"));
    assert!(refused("host=a sslcrl=/x").contains("revocation"));
    let unclosed = refused("host=a password='s3cret");
    assert!(unclosed.contains("`password`") && !unclosed.contains("s3cret"), "{unclosed}");
}

#[test]
fn a_question_mark_in_an_unencoded_password_does_not_hide_the_query() {
    // libpq and tokio-postgres end the password at the `@`: the query is `sslmode=require`.
    let (rest, tls) = split("postgresql://u:p?ss@h/db?sslmode=require&application_name=x").unwrap();
    assert_eq!(tls.mode, SslMode::Require);
    assert_eq!(rest, "postgresql://u:p?ss@h/db?application_name=x");
    let (rest, tls) = split("postgresql://u:p?ss@h/db").unwrap();
    assert_eq!((rest.as_str(), tls.mode), ("postgresql://u:p?ss@h/db", SslMode::Prefer));
}

#[test]
fn urls_libpq_and_tokio_postgres_read_differently_are_refused_without_the_password() {
    let refused = split("postgresql://u:pa/ss@h/db?sslmode=verify-full&sslrootcert=system").unwrap_err();
    assert!(refused.contains("%40") && !refused.contains("pa/ss"), "{refused}");
    assert!(split("postgresql://h/db?sslmode=require&application_name=a@b").is_err());
}

#[test]
fn a_plus_in_a_url_value_stays_a_plus_as_in_libpq() {
    let (_, tls) = split("postgresql://h/db?sslmode=verify-ca&sslrootcert=/etc/a+b.pem").unwrap();
    assert_eq!(tls.roots, Some(Roots::File("/etc/a+b.pem".into())));
}

#[test]
fn a_bare_equals_sign_is_refused_not_a_silent_end_of_the_conninfo() {
    // tokio-postgres would stop at the `=` and never see the verify-full after it.
    assert!(split("host=a = sslmode=verify-full sslrootcert=/ca.pem").is_err());
    assert!(split("host=a =x sslmode=require").is_err());
}

#[test]
fn an_unclosed_quote_does_not_name_a_piece_of_a_password_as_its_key() {
    let err = split("host=a password=hunter2 s3cr3t='x").unwrap_err();
    assert!(!err.contains("s3cr3t") && !err.contains("hunter2"), "{err}");
}

#[test]
fn a_root_file_with_a_weaker_mode_checks_what_libpq_checks() {
    // `sslrootcert=system` alone is verify-full in libpq, and a weaker mode an error.
    assert_eq!(split("host=a sslrootcert=system").unwrap().1.mode, SslMode::VerifyFull);
    for weak in ["disable", "prefer", "require", "verify-ca"] {
        let err = split(&format!("host=a sslrootcert=system sslmode={weak}")).unwrap_err();
        assert!(err.contains("verify-full"), "{weak}: {err}");
    }
    // `require` with a CA file checks the chain, as libpq does.
    assert_eq!(split("host=a sslmode=require sslrootcert=/ca.pem").unwrap().1.mode, SslMode::VerifyCa);
    assert_eq!(split("host=a sslrootcert=/ca.pem sslmode=require").unwrap().1.mode, SslMode::VerifyCa);
}

#[test]
fn a_repeated_host_or_port_is_refused_not_added_to_the_list() {
    // libpq connects to `b` only; tokio-postgres would try `a` first.
    let err = split("host=a user=u host=b").unwrap_err();
    assert!(err.contains("`host` is given twice"), "{err}");
    assert!(split("host=a port=1 port=2").is_err());
    assert!(split("postgresql://a/db?host=b").is_err());
    assert!(split("postgresql://u@a:1/db?port=2").is_err());
    assert!(split("postgresql:///db?host=b&port=2").is_ok(), "no hosts in the URL: the query gives them");
    assert!(split("host=a,b port=1,2").is_ok());
}

#[test]
fn an_unencoded_at_sign_in_a_password_is_refused_not_logged_as_a_host() {
    // tokio-postgres would connect to (and tokend log) the host "rest-of-pw@h".
    let err = split("postgresql://u:pw@rest-of-pw@h/db").unwrap_err();
    assert!(err.contains("%40") && !err.contains("rest-of-pw"), "{err}");
    assert!(split("postgresql://u:pw%40rest@h/db").is_ok());
}

#[test]
fn libpqs_environment_variables_are_defaults_the_conninfo_overrides() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    let verify = env(&[("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", "/etc/ca.pem")]);
    let (_, tls) = split_with_env("host=a", verify).unwrap();
    assert_eq!(tls, TlsSettings { mode: SslMode::VerifyFull, roots: Some(Roots::File("/etc/ca.pem".into())) });
    let (_, tls) = split_with_env("host=a sslmode=disable", env(&[("PGSSLMODE", "verify-full")])).unwrap();
    assert_eq!(tls.mode, SslMode::Disable, "the conninfo wins");
    let (_, tls) = split_with_env("host=a", env(&[("PGSSLMODE", "")])).unwrap();
    assert_eq!(tls.mode, SslMode::Prefer, "an empty variable is unset");
    let refused = split_with_env("host=a", env(&[("PGSSLKEY", "/secret/key.pem")])).unwrap_err();
    assert!(refused.contains("PGSSLKEY") && !refused.contains("/secret"), "{refused}");
    let refused = split_with_env("host=a", env(&[("PGSSLMODE", "strict")])).unwrap_err();
    assert!(refused.contains("PGSSLMODE"), "{refused}");
}
