//! The sentences people read, from real SDK failures: recorded answers, a refused connection,
//! a credentials provider that has none.

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::error::SdkError;
use aws_sdk_sts::operation::get_caller_identity::{
    GetCallerIdentityError, GetCallerIdentityOutput,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::*;
use crate::collect::replay::{ok, query_error, s3_error, Answer, Replay, REGION};

type StsResult = Result<GetCallerIdentityOutput, SdkError<GetCallerIdentityError, HttpResponse>>;

async fn caller_identity(replay: &Replay) -> StsResult {
    replay.factory().sts().get_caller_identity().send().await
}

/// The message of a failed GetCallerIdentity, as `compliance scan` prints it.
fn message(result: StsResult, endpoint: Endpoint) -> (AwsError, String) {
    let err = result.expect_err("the call should fail");
    let mut failure = CallFailure::of("sts", "GetCallerIdentity", REGION, &err);
    failure.endpoint = endpoint;
    let error = AwsError::Call {
        service: "sts",
        api: "GetCallerIdentity",
        failure: Box::new(failure),
    };
    let text = error.to_string();
    (error, text)
}

fn default_endpoint() -> Endpoint {
    Endpoint::from_lookup("sts", REGION, |_| None)
}

fn configured_endpoint(url: &str) -> Endpoint {
    Endpoint::from_lookup("sts", REGION, |name| {
        (name == "AWS_ENDPOINT_URL").then(|| url.to_string())
    })
}

#[tokio::test]
async fn a_refused_connection_names_the_endpoint_and_what_to_check() {
    // A real connection to a closed local port: the transport error the SDK really produces.
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url("http://127.0.0.1:1")
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let result = aws_sdk_sts::Client::from_conf(config)
        .get_caller_identity()
        .send()
        .await;

    let (error, text) = message(result, configured_endpoint("http://127.0.0.1:1"));

    assert_eq!(error.kind(), Some(FailureKind::Unreachable));
    assert!(error.is_transient());
    assert!(
        text.starts_with(
            "sts GetCallerIdentity failed: could not reach http://127.0.0.1:1 (from \
             AWS_ENDPOINT_URL): "
        ) && text.ends_with("; check that it is running and that AWS_ENDPOINT_URL is right"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
    assert!(
        !text.contains("ConnectorError") && !text.contains("Some("),
        "{text}"
    );
}

#[tokio::test]
async fn an_unreachable_aws_endpoint_points_at_the_network() {
    let replay = Replay::new().always(&["sts."], Answer::Refused);

    let (_, text) = message(caller_identity(&replay).await, default_endpoint());

    assert_eq!(
        text,
        "sts GetCallerIdentity failed: could not reach https://sts.us-east-1.amazonaws.com: \
         Connection refused (os error 111); check the network connection (and \
         AWS_ENDPOINT_URL, if you meant a local endpoint)"
    );
}

#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no providers in chain provided credentials",
        )))
    }
}

#[tokio::test]
async fn missing_credentials_say_where_credentials_come_from() {
    let replay = Replay::new().always(&["sts."], ok("never sent"));
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&replay.sdk_config())
            .credentials_provider(SharedCredentialsProvider::new(NoCredentials))
            .build(),
    );

    let (error, text) = message(sts.get_caller_identity().send().await, default_endpoint());

    assert_eq!(error.kind(), Some(FailureKind::Credentials));
    assert!(!error.is_transient());
    assert_eq!(
        text,
        "sts GetCallerIdentity failed: no valid AWS credentials (no providers in chain provided \
         credentials); check AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and \
         renew expired session credentials"
    );
    assert!(replay.requests_with("").is_empty());
}

#[tokio::test]
async fn service_errors_read_as_their_class() {
    let cases = [
        (
            query_error(403, "ExpiredToken"),
            FailureKind::Credentials,
            "no valid AWS credentials (ExpiredToken: ExpiredToken (recorded)); check AWS_PROFILE \
             or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and renew expired session \
             credentials",
        ),
        (
            query_error(403, "AccessDenied"),
            FailureKind::AccessDenied,
            "access denied (AccessDenied: AccessDenied (recorded)); the credentials in use need \
             permission for sts:GetCallerIdentity",
        ),
        (
            query_error(400, "Throttling"),
            FailureKind::Throttled,
            "throttled by AWS (Throttling: Throttling (recorded)) through the SDK's retries (up \
             to 20 attempts); try again later or scan fewer regions at once",
        ),
        (
            query_error(500, "InternalFailure"),
            FailureKind::Unavailable,
            "the service failed (InternalFailure: InternalFailure (recorded)); this is usually \
             temporary, try again later",
        ),
        (
            query_error(400, "ValidationError"),
            FailureKind::Rejected,
            "ValidationError: ValidationError (recorded)",
        ),
        (
            ok("<not-xml"),
            FailureKind::BadResponse,
            "the answer from https://sts.us-east-1.amazonaws.com could not be read: ",
        ),
    ];
    for (answer, kind, sentence) in cases {
        let replay = Replay::new().always(&["sts."], answer);

        let (error, text) = message(caller_identity(&replay).await, default_endpoint());

        assert_eq!(error.kind(), Some(kind), "{text}");
        assert_eq!(error.is_transient(), kind.is_transient());
        let prefix = "sts GetCallerIdentity failed: ";
        assert!(text.starts_with(&format!("{prefix}{sentence}")), "{text}");
    }
}

#[tokio::test]
async fn only_not_found_is_absent() {
    let replay = Replay::new()
        .always(&["/missing.json"], s3_error(404, "NoSuchKey"))
        .always(&["/denied.json"], s3_error(403, "AccessDenied"));
    let s3 = replay.factory().s3(REGION);
    let get = |key: &'static str| s3.get_object().bucket("reports-bucket").key(key).send();

    let missing = get("missing.json").await.expect_err("recorded 404");
    let denied = get("denied.json").await.expect_err("recorded 403");

    assert!(AwsError::api("s3", "GetObject", &missing).is_not_found());
    let denied = AwsError::api("s3", "GetObject", &denied);
    assert!(!denied.is_not_found());
    assert_eq!(denied.kind(), Some(FailureKind::AccessDenied));
}

#[tokio::test]
async fn an_optional_parameter_is_absent_only_when_it_does_not_exist() {
    let json_error = |code: &str| Answer::Http {
        status: 400,
        body: format!(r#"{{"__type":"{code}","message":"{code} (recorded)"}}"#),
    };
    let replay = Replay::new()
        .always(&["\"Name\":\"/missing\""], json_error("ParameterNotFound"))
        .always(
            &["\"Name\":\"/denied\""],
            json_error("AccessDeniedException"),
        );
    let ssm = replay.factory().ssm();

    let missing = crate::params::load_parameter(&ssm, "/missing").await;
    let denied = crate::params::load_parameter(&ssm, "/denied").await;

    assert!(matches!(missing, Ok(None)), "{missing:?}");
    let denied = denied.expect_err("a denied read is an error");
    assert_eq!(denied.kind(), Some(FailureKind::AccessDenied));
    assert!(denied
        .to_string()
        .ends_with("need permission for ssm:GetParameter"));
}

#[test]
fn recorded_codes_keep_their_retry_class() {
    for transient in [
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "DispatchFailure",
        "TimeoutError",
        "ResponseError",
    ] {
        assert!(is_transient_code(transient), "{transient}");
    }
    for permanent in [
        "AccessDenied",
        "UnauthorizedOperation",
        "ExpiredToken",
        "NoSuchBucket",
    ] {
        assert!(!is_transient_code(permanent), "{permanent}");
    }
}
