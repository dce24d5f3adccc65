//! A write the in-memory adapters refuse on purpose, for tests of a state that is run again
//! after failing halfway (Step Functions' Retry and Lambda redelivery re-run whole states).

use std::sync::Mutex;

use crate::error::AwsError;

/// Counts an adapter's writes and refuses the one chosen, once.
#[derive(Debug, Default)]
pub struct WriteFault {
    /// Writes still allowed before the refused one; `None`: every write is taken.
    remaining: Mutex<Option<usize>>,
}

impl WriteFault {
    /// The `n`th write from now (1 = the next one) fails once; later writes are taken.
    pub fn fail_nth(&self, n: usize) {
        *crate::lock(&self.remaining) = Some(n.saturating_sub(1));
    }

    /// Called before each write: the refused write's error is the service's own 500, which
    /// the states treat as transient.
    pub fn check(&self, service: &'static str, api: &'static str) -> Result<(), AwsError> {
        let mut remaining = crate::lock(&self.remaining);
        match *remaining {
            Some(0) => {
                *remaining = None;
                Err(AwsError::Api {
                    service,
                    api,
                    code: "InternalError".into(),
                    message: "write refused by the test's fault".into(),
                })
            }
            Some(n) => {
                *remaining = Some(n - 1);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_chosen_write_fails_and_only_once() {
        let fault = WriteFault::default();
        assert!(fault.check("s3", "PutObject").is_ok());
        fault.fail_nth(2);
        assert!(fault.check("s3", "PutObject").is_ok());
        let refused = fault.check("s3", "PutObject").unwrap_err();
        assert!(refused.to_string().contains("PutObject"), "{refused}");
        assert!(fault.check("s3", "PutObject").is_ok());
    }
}
