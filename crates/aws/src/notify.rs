//! Alerts to SNS, with message attributes subscribers can filter on.

use aws_sdk_sns::types::MessageAttributeValue;

use crate::error::AwsError;

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

    /// Publishes; returns the message id. `attributes` are String attributes.
    pub async fn publish(
        &self,
        subject: &str,
        message: &str,
        attributes: &[(&str, String)],
    ) -> Result<String, AwsError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(message);
        for (name, value) in attributes {
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
    }
}
