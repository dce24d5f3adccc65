//! Where a call went, for messages about failures to reach it: the endpoint aws-config takes
//! from the environment, else the region's AWS endpoint.

use std::fmt;

use compliance_core::model::partition_of_region;

/// The endpoint of one service in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    /// The variable that set it (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`); `None` for the
    /// region's default endpoint.
    pub variable: Option<String>,
}

impl Endpoint {
    /// From the process environment, as aws-config reads it.
    pub fn of(service: &str, region: &str) -> Self {
        Endpoint::from_lookup(service, region, |name| match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Some(value),
            _ => None,
        })
    }

    /// `AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, unless
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true; else the region's AWS endpoint.
    pub fn from_lookup(
        service: &str,
        region: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let ignored = lookup("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if !ignored {
            let specific = format!("AWS_ENDPOINT_URL_{}", env_id(service));
            for variable in [specific, "AWS_ENDPOINT_URL".to_string()] {
                if let Some(url) = lookup(&variable) {
                    return Endpoint {
                        url,
                        variable: Some(variable),
                    };
                }
            }
        }
        let domain = match partition_of_region(region) {
            "aws-cn" => "amazonaws.com.cn",
            _ => "amazonaws.com",
        };
        Endpoint {
            url: format!("https://{}.{region}.{domain}", host_prefix(service)),
            variable: None,
        }
    }

    /// What to check when the endpoint cannot be reached.
    pub fn what_to_check(&self) -> String {
        match &self.variable {
            Some(variable) => format!("check that it is running and that {variable} is right"),
            None => "check the network connection (and AWS_ENDPOINT_URL, if you meant a local \
                     endpoint)"
                .to_string(),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.variable {
            Some(variable) => write!(f, "{} (from {variable})", self.url),
            None => f.write_str(&self.url),
        }
    }
}

/// The service's part of `AWS_ENDPOINT_URL_<SERVICE>` (its SDK service id in upper snake case).
fn env_id(service: &str) -> String {
    match service {
        "s3control" => "S3_CONTROL".to_string(),
        other => other.to_ascii_uppercase(),
    }
}

/// The first label of the service's AWS host name.
fn host_prefix(service: &str) -> &str {
    match service {
        "s3control" => "s3-control",
        "sfn" => "states",
        "cloudwatch" => "monitoring",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_service_variable_wins_over_the_general_one_then_the_region_default() {
        let both = [
            ("AWS_ENDPOINT_URL", "http://localhost:5000"),
            ("AWS_ENDPOINT_URL_S3_CONTROL", "http://localhost:5001"),
        ];
        let control = Endpoint::from_lookup("s3control", "eu-west-1", lookup(&both));
        assert_eq!(
            control.to_string(),
            "http://localhost:5001 (from AWS_ENDPOINT_URL_S3_CONTROL)"
        );
        let sts = Endpoint::from_lookup("sts", "eu-west-1", lookup(&both));
        assert_eq!(sts.variable.as_deref(), Some("AWS_ENDPOINT_URL"));
        assert_eq!(
            Endpoint::from_lookup("sfn", "cn-north-1", lookup(&[])).to_string(),
            "https://states.cn-north-1.amazonaws.com.cn"
        );
        let ignored = [
            ("AWS_ENDPOINT_URL", "http://localhost:5000"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ];
        assert_eq!(
            Endpoint::from_lookup("ec2", "us-east-1", lookup(&ignored)).url,
            "https://ec2.us-east-1.amazonaws.com"
        );
    }
}
