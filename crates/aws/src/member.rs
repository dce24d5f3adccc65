//! Clients for member accounts: the member role is assumed once per account (and role) and its
//! credentials are reused by every client of that account until shortly before they expire,
//! then assumed again. The scanner's own account keeps its own credentials.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use crate::error::{AwsError, CallFailure};
use crate::sdk::ClientFactory;

/// The session name member accounts see in CloudTrail for the scanner's calls.
pub const SESSION_NAME: &str = "compliance-scanner";
/// Requested session length: STS's default, and what a role's MaxSessionDuration always allows.
const SESSION_SECONDS: i32 = 3600;
/// Credentials are renewed when they have less than this left, so no call carries expiring ones.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Builds and caches a client factory per member account.
pub struct MemberAccess {
    base: ClientFactory,
    factories: tokio::sync::Mutex<HashMap<String, ClientFactory>>,
}

impl MemberAccess {
    pub fn new(base: ClientFactory) -> Self {
        MemberAccess {
            base,
            factories: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The scanner's own clients.
    pub fn own(&self) -> &ClientFactory {
        &self.base
    }

    /// Clients of the account `role_arn` belongs to, with the role assumed now (so that an
    /// account that cannot be reached fails here, named, rather than in every call after); the
    /// own clients when there is no role.
    pub async fn factory(
        &self,
        account_id: &str,
        role_arn: Option<&str>,
        external_id: Option<&str>,
    ) -> Result<ClientFactory, AwsError> {
        let Some(role_arn) = role_arn else {
            return Ok(self.base.clone());
        };
        let key = format!("{role_arn}|{}", external_id.unwrap_or(""));
        let mut factories = self.factories.lock().await;
        if let Some(factory) = factories.get(&key) {
            return Ok(factory.clone());
        }
        let role = Arc::new(AssumedRole {
            sts: self.base.sts(),
            account_id: account_id.to_string(),
            role_arn: role_arn.to_string(),
            external_id: external_id.map(str::to_string),
            current: Mutex::new(None),
        });
        role.credentials().await?;
        let factory = self
            .base
            .with_credentials(SharedCredentialsProvider::new(SharedRole(role)));
        factories.insert(key, factory.clone());
        Ok(factory)
    }
}

#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    account_id: String,
    role_arn: String,
    external_id: Option<String>,
    current: Mutex<Option<Credentials>>,
}

impl AssumedRole {
    /// The cached credentials while they have more than [`REFRESH_MARGIN`] left, else new ones.
    async fn credentials(&self) -> Result<Credentials, AwsError> {
        let fresh_until = SystemTime::now() + REFRESH_MARGIN;
        if let Some(c) = crate::lock(&self.current).as_ref() {
            if c.expiry().is_none_or(|e| e > fresh_until) {
                return Ok(c.clone());
            }
        }
        let credentials = self.assume().await?;
        *crate::lock(&self.current) = Some(credentials.clone());
        Ok(credentials)
    }

    async fn assume(&self) -> Result<Credentials, AwsError> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(SESSION_NAME)
            .set_external_id(self.external_id.clone())
            .duration_seconds(SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| AwsError::AssumeRole {
                account_id: self.account_id.clone(),
                role_arn: self.role_arn.clone(),
                failure: Box::new(CallFailure::of(
                    "sts",
                    "AssumeRole",
                    &crate::sdk::home_region(),
                    &e,
                )),
            })?;
        let Some(c) = out.credentials() else {
            return Err(AwsError::Api {
                service: "sts",
                api: "AssumeRole",
                code: "MissingCredentials".into(),
                message: format!("assuming {} answered no credentials", self.role_arn),
            });
        };
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        tracing::info!(account = %self.account_id, role = %self.role_arn, "member role assumed");
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "compliance-scanner-member-role",
        ))
    }
}

#[derive(Debug, Clone)]
struct SharedRole(Arc<AssumedRole>);

impl ProvideCredentials for SharedRole {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.0.credentials().await.map_err(|e| {
                aws_credential_types::provider::error::CredentialsError::provider_error(e)
            })
        })
    }
}

/// The account the scanner's own credentials belong to.
pub trait CallerIdentity: Send + Sync {
    fn account_id(&self) -> futures::future::BoxFuture<'_, Result<String, AwsError>>;
}

/// STS GetCallerIdentity, asked once per process (the answer cannot change).
pub struct StsIdentity {
    sts: aws_sdk_sts::Client,
    account: tokio::sync::OnceCell<String>,
}

impl StsIdentity {
    pub fn new(sts: aws_sdk_sts::Client) -> Self {
        StsIdentity {
            sts,
            account: tokio::sync::OnceCell::new(),
        }
    }
}

impl CallerIdentity for StsIdentity {
    fn account_id(&self) -> futures::future::BoxFuture<'_, Result<String, AwsError>> {
        Box::pin(async move {
            self.account
                .get_or_try_init(|| async {
                    let out = self
                        .sts
                        .get_caller_identity()
                        .send()
                        .await
                        .map_err(|e| AwsError::api("sts", "GetCallerIdentity", &e))?;
                    out.account()
                        .map(str::to_string)
                        .ok_or_else(|| AwsError::Api {
                            service: "sts",
                            api: "GetCallerIdentity",
                            code: "MissingAccount".into(),
                            message: "the response carried no account id".into(),
                        })
                })
                .await
                .cloned()
        })
    }
}

/// A known account, for tests.
pub struct FixedIdentity(pub String);

impl CallerIdentity for FixedIdentity {
    fn account_id(&self) -> futures::future::BoxFuture<'_, Result<String, AwsError>> {
        let id = self.0.clone();
        Box::pin(async move { Ok(id) })
    }
}
