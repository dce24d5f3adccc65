//! Recorded AWS answers for offline tests: an HTTP client that answers each request with the
//! next answer recorded for the first rule the request matches, and keeps every request. The
//! bodies are what AWS sends on the wire, so the SDK's own deserialisers and error parsers run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use crate::sdk::{timeout_config, ClientFactory, RequestCounter, MAX_ATTEMPTS};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

#[derive(Debug, Clone)]
pub enum Answer {
    Http {
        status: u16,
        body: String,
    },
    /// The connection is refused (a transport failure: no HTTP answer at all).
    Refused,
}

pub fn ok(body: &str) -> Answer {
    Answer::Http {
        status: 200,
        body: body.to_string(),
    }
}

/// An S3 (REST-XML) error.
pub fn s3_error(status: u16, code: &str) -> Answer {
    Answer::Http {
        status,
        body: format!(
            "<Error><Code>{code}</Code><Message>{code} (recorded)</Message>\
             <RequestId>req</RequestId></Error>"
        ),
    }
}

/// An EC2 error.
pub fn ec2_error(status: u16, code: &str) -> Answer {
    Answer::Http {
        status,
        body: format!(
            "<Response><Errors><Error><Code>{code}</Code><Message>{code} (recorded)</Message>\
             </Error></Errors><RequestID>req</RequestID></Response>"
        ),
    }
}

/// An AWS Query error (RDS, STS).
pub fn query_error(status: u16, code: &str) -> Answer {
    Answer::Http {
        status,
        body: format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{code} (recorded)</Message></Error><RequestId>req</RequestId></ErrorResponse>"
        ),
    }
}

#[derive(Debug)]
struct Rule {
    needles: Vec<String>,
    answers: VecDeque<Answer>,
    /// The last answer is given to every further matching request.
    repeat_last: bool,
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    requests: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Replay {
    state: Arc<Mutex<State>>,
}

impl Replay {
    pub fn new() -> Self {
        Replay::default()
    }

    /// Requests whose text (`METHOD URI`, a newline, the body) contains every needle get
    /// `answers`, one each, in order.
    pub fn on(self, needles: &[&str], answers: impl IntoIterator<Item = Answer>) -> Self {
        self.rule(needles, answers.into_iter().collect(), false)
    }

    /// Every request that contains every needle gets `answer`.
    pub fn always(self, needles: &[&str], answer: Answer) -> Self {
        self.rule(needles, VecDeque::from([answer]), true)
    }

    fn rule(self, needles: &[&str], answers: VecDeque<Answer>, repeat_last: bool) -> Self {
        self.lock().rules.push(Rule {
            needles: needles
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            answers,
            repeat_last,
        });
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The requests that contain `needle`, in the order they were made.
    pub fn requests_with(&self, needle: &str) -> Vec<String> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.contains(needle))
            .cloned()
            .collect()
    }

    /// Clients that send to this replay (see [`Replay::sdk_config`]).
    pub fn factory(&self) -> ClientFactory {
        ClientFactory::new(self.sdk_config(), RequestCounter::default())
    }

    /// Test credentials, [`REGION`], the production attempt count with millisecond backoffs,
    /// in standard mode (adaptive mode's client-side rate limiter would hold each test for
    /// seconds after the first throttling answer).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDREPLAY",
                "replay-secret",
                None,
                None,
                "replay",
            )))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(2)),
            )
            .timeout_config(timeout_config())
            .http_client(self.clone())
            .build()
    }

    fn answer(&self, request: &HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let text = format!("{} {}\n{body}", request.method(), request.uri());
        let mut state = self.lock();
        state.requests.push(text.clone());
        let rule = state.rules.iter_mut().find(|rule| {
            !rule.answers.is_empty() && rule.needles.iter().all(|n| text.contains(n.as_str()))
        });
        let answer = match rule {
            Some(rule) if rule.repeat_last => rule.answers.front().cloned(),
            Some(rule) => rule.answers.pop_front(),
            None => None,
        };
        match answer {
            Some(Answer::Http { status, body }) => {
                let status =
                    StatusCode::try_from(status).map_err(|e| ConnectorError::user(Box::new(e)))?;
                let mut response = HttpResponse::new(status, SdkBody::from(body));
                response.headers_mut().insert("content-type", "text/xml");
                Ok(response)
            }
            Some(Answer::Refused) => Err(ConnectorError::io(Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "Connection refused (os error 111)",
            )))),
            None => Err(ConnectorError::other(
                format!("no recorded answer for {text}").into(),
                None,
            )),
        }
    }
}

impl HttpConnector for Replay {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(self.answer(&request))
    }
}

impl HttpClient for Replay {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
