//! Alerts to SNS, with message attributes subscribers can filter on.

use aws_sdk_sns::types::MessageAttributeValue;
use futures::future::BoxFuture;

use crate::error::AwsError;

/// One message to a topic: its String attributes are what subscribers filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
    pub attributes: Vec<(&'static str, String)>,
}

/// Where alerts go (an SNS topic in production).
pub trait Publisher: Send + Sync {
    /// Publishes; returns the message id.
    fn publish<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<String, AwsError>>;
}

pub struct Notifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Notifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Notifier {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl Publisher for Notifier {
    fn publish<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<String, AwsError>> {
        Box::pin(async move {
            let mut request = self
                .client
                .publish()
                .topic_arn(&self.topic_arn)
                .subject(&message.subject)
                .message(&message.body);
            for (name, value) in &message.attributes {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .map_err(|e| AwsError::Serialise {
                        what: "an SNS message attribute",
                        reason: e.to_string(),
                    })?;
                request = request.message_attributes(*name, attribute);
            }
            let out = request
                .send()
                .await
                .map_err(|e| AwsError::api("sns", "Publish", &e))?;
            Ok(out.message_id().unwrap_or_default().to_string())
        })
    }
}

/// A topic in memory: keeps every message, for tests.
#[derive(Default)]
pub struct MemoryTopic {
    messages: std::sync::Mutex<Vec<Message>>,
    /// Publishes a test makes fail.
    pub writes: crate::fault::WriteFault,
}

impl MemoryTopic {
    pub fn messages(&self) -> Vec<Message> {
        crate::lock(&self.messages).clone()
    }
}

impl Publisher for MemoryTopic {
    fn publish<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<String, AwsError>> {
        if let Err(e) = self.writes.check("sns", "Publish") {
            return Box::pin(async move { Err(e) });
        }
        let mut messages = crate::lock(&self.messages);
        messages.push(message.clone());
        let id = format!("memory-{}", messages.len());
        Box::pin(async move { Ok(id) })
    }
}
