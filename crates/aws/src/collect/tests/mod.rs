//! Collectors against recorded AWS answers: every page is read, "not found" is absent, and any
//! other failure is a recorded scan error while the rest of the scan goes on.

// Recorded answers are built as text, item by item, the way AWS writes them.
#![allow(clippy::format_collect)]

mod ec2;
mod rds;
mod s3;

use compliance_core::ScanError;

use crate::error::is_transient_code;

/// The one recorded error of `api`, or a panic listing what was recorded instead.
fn error_of<'a>(errors: &'a [ScanError], api: &str) -> &'a ScanError {
    let matching: Vec<_> = errors.iter().filter(|e| e.api == api).collect();
    match matching.as_slice() {
        [one] => one,
        _ => panic!("expected one {api} error, got {errors:#?}"),
    }
}

/// Throttling answered on every attempt: the SDK retried it, the scan recorded it, and the
/// record says it is worth another scan later.
fn assert_throttled(error: &ScanError, code: &str, attempts: usize) {
    assert_eq!(error.code, code);
    assert!(is_transient_code(&error.code), "{error:?}");
    assert!(
        error.message.starts_with("throttled by AWS"),
        "{}",
        error.message
    );
    assert_eq!(attempts, crate::sdk::MAX_ATTEMPTS as usize);
}
