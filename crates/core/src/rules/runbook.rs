//! The SSM Automation runbooks that fix failures, each with the typed parameters it takes, and
//! the typed evidence a check records for them (so remediation never re-reads the JSON
//! evidence written for people).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

use super::ec2::OpenPermission;

/// An SSM Automation document the template defines (docs/workflow-contract.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runbook {
    /// Sets default encryption (SSE-S3) on a bucket.
    EncryptS3Bucket,
    /// Turns `PubliclyAccessible` off on a DB instance.
    PrivateRdsInstance,
    /// Revokes the ingress permissions of a security group that are open to the internet.
    RestrictSecurityGroup,
}

impl Runbook {
    pub const ALL: [Runbook; 3] = [
        Runbook::EncryptS3Bucket,
        Runbook::PrivateRdsInstance,
        Runbook::RestrictSecurityGroup,
    ];

    /// The document's name; names may not start with `AWS-`, `Amazon` or `amzn`.
    pub const fn document_name(self) -> &'static str {
        match self {
            Runbook::EncryptS3Bucket => "ComplianceScanner-RemediateUnencryptedS3Bucket",
            Runbook::PrivateRdsInstance => "ComplianceScanner-RemediatePublicRdsInstance",
            Runbook::RestrictSecurityGroup => "ComplianceScanner-RemediateOpenSecurityGroup",
        }
    }

    pub fn from_document_name(name: &str) -> Option<Runbook> {
        Runbook::ALL.into_iter().find(|r| r.document_name() == name)
    }

    /// Automation documents are regional; S3's API reaches every bucket from any region, EC2's
    /// and RDS's only the resources of their own region.
    pub const fn reaches_other_regions(self) -> bool {
        matches!(self, Runbook::EncryptS3Bucket)
    }

    /// The parameters that fix `resource_id`, given what the check recorded; `None` when the
    /// runbook needs evidence the finding does not carry.
    pub fn parameters(
        self,
        resource_id: &str,
        evidence: Option<&RemediationEvidence>,
    ) -> Option<RunbookParameters> {
        match self {
            Runbook::EncryptS3Bucket => Some(RunbookParameters::EncryptS3Bucket {
                bucket_name: resource_id.to_string(),
            }),
            Runbook::PrivateRdsInstance => Some(RunbookParameters::PrivateRdsInstance {
                db_instance_identifier: resource_id.to_string(),
            }),
            Runbook::RestrictSecurityGroup => match evidence {
                Some(RemediationEvidence::OpenIngress(open)) if !open.is_empty() => {
                    Some(RunbookParameters::RestrictSecurityGroup {
                        group_id: resource_id.to_string(),
                        revoke: open.clone(),
                    })
                }
                _ => None,
            },
        }
    }
}

impl fmt::Display for Runbook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.document_name())
    }
}

/// Serialised as the document name, as findings have always carried it.
impl Serialize for Runbook {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.document_name())
    }
}

impl<'de> Deserialize<'de> for Runbook {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Runbook::from_document_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{name}` is not a runbook of this scanner (expected one of {})",
                Runbook::ALL.map(Runbook::document_name).join(", ")
            ))
        })
    }
}

/// What a runbook needs to know about a failure beyond the resource's id, as the check saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemediationEvidence {
    /// The ingress permissions open to the internet, one entry per (permission, source).
    OpenIngress(Vec<OpenPermission>),
}

/// One runbook's parameters for one resource, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunbookParameters {
    EncryptS3Bucket {
        bucket_name: String,
    },
    PrivateRdsInstance {
        db_instance_identifier: String,
    },
    RestrictSecurityGroup {
        group_id: String,
        revoke: Vec<OpenPermission>,
    },
}

impl RunbookParameters {
    pub fn runbook(&self) -> Runbook {
        match self {
            RunbookParameters::EncryptS3Bucket { .. } => Runbook::EncryptS3Bucket,
            RunbookParameters::PrivateRdsInstance { .. } => Runbook::PrivateRdsInstance,
            RunbookParameters::RestrictSecurityGroup { .. } => Runbook::RestrictSecurityGroup,
        }
    }

    /// Folds in what another finding on the same resource needs: one execution of the
    /// security-group runbook revokes every open permission, in the order first seen.
    pub fn absorb(&mut self, other: RunbookParameters) {
        if let (
            RunbookParameters::RestrictSecurityGroup { revoke, .. },
            RunbookParameters::RestrictSecurityGroup { revoke: more, .. },
        ) = (self, other)
        {
            for permission in more {
                if !revoke.contains(&permission) {
                    revoke.push(permission);
                }
            }
        }
    }

    /// The parameters as StartAutomationExecution takes them: the document's parameter names
    /// to lists of strings (the caller adds `AutomationAssumeRole`).
    pub fn to_ssm(&self) -> BTreeMap<String, Vec<String>> {
        match self {
            RunbookParameters::EncryptS3Bucket { bucket_name } => {
                BTreeMap::from([("BucketName".to_string(), vec![bucket_name.clone()])])
            }
            RunbookParameters::PrivateRdsInstance {
                db_instance_identifier,
            } => BTreeMap::from([(
                "DBInstanceIdentifier".to_string(),
                vec![db_instance_identifier.clone()],
            )]),
            RunbookParameters::RestrictSecurityGroup { group_id, revoke } => {
                // A list parameter travels as JSON text; the runbook parses it.
                let permissions: Vec<Value> = revoke.iter().map(ip_permission).collect();
                BTreeMap::from([
                    ("GroupId".to_string(), vec![group_id.clone()]),
                    (
                        "IpPermissions".to_string(),
                        vec![Value::Array(permissions).to_string()],
                    ),
                ])
            }
        }
    }
}

/// The EC2 `IpPermission` that RevokeSecurityGroupIngress takes to revoke exactly this exposure.
fn ip_permission(open: &OpenPermission) -> Value {
    let mut permission = json!({ "IpProtocol": open.protocol });
    if let (Some(from), Some(to)) = (open.from_port, open.to_port) {
        permission["FromPort"] = json!(from);
        permission["ToPort"] = json!(to);
    }
    if open.source.contains(':') {
        permission["Ipv6Ranges"] = json!([{ "CidrIpv6": open.source }]);
    } else {
        permission["IpRanges"] = json!([{ "CidrIp": open.source }]);
    }
    permission
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(protocol: &str, ports: Option<(i32, i32)>, source: &str) -> OpenPermission {
        OpenPermission {
            protocol: protocol.into(),
            from_port: ports.map(|p| p.0),
            to_port: ports.map(|p| p.1),
            source: source.into(),
        }
    }

    #[test]
    fn runbooks_serialise_as_their_document_names_and_reject_others() {
        for runbook in Runbook::ALL {
            let text = serde_json::to_string(&runbook).unwrap();
            assert_eq!(text, format!("\"{}\"", runbook.document_name()));
            assert_eq!(serde_json::from_str::<Runbook>(&text).unwrap(), runbook);
            assert!(runbook.document_name().starts_with("ComplianceScanner-"));
        }
        let err = serde_json::from_str::<Runbook>("\"AWS-DisablePublicAccess\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`AWS-DisablePublicAccess` is not a runbook"),
            "{err}"
        );
    }

    #[test]
    fn ssm_parameters_are_the_documents_parameters() {
        let bucket = Runbook::EncryptS3Bucket.parameters("b", None).unwrap();
        assert_eq!(
            bucket.to_ssm(),
            BTreeMap::from([("BucketName".to_string(), vec!["b".to_string()])])
        );
        let db = Runbook::PrivateRdsInstance
            .parameters("db-1", None)
            .unwrap();
        assert_eq!(
            db.to_ssm(),
            BTreeMap::from([("DBInstanceIdentifier".to_string(), vec!["db-1".to_string()])])
        );
        assert_eq!(
            Runbook::RestrictSecurityGroup.parameters("sg-1", None),
            None
        );
        assert_eq!(
            Runbook::RestrictSecurityGroup
                .parameters("sg-1", Some(&RemediationEvidence::OpenIngress(vec![]))),
            None,
            "nothing to revoke"
        );
        let ssh = RemediationEvidence::OpenIngress(vec![open("tcp", Some((22, 22)), "0.0.0.0/0")]);
        let mut sg = Runbook::RestrictSecurityGroup
            .parameters("sg-1", Some(&ssh))
            .unwrap();
        sg.absorb(RunbookParameters::RestrictSecurityGroup {
            group_id: "sg-1".into(),
            revoke: vec![
                open("tcp", Some((22, 22)), "0.0.0.0/0"),
                open("-1", None, "::/0"),
            ],
        });
        assert_eq!(sg.runbook(), Runbook::RestrictSecurityGroup);
        // The exact text StartAutomationExecution received before the parameters were typed.
        assert_eq!(
            sg.to_ssm(),
            BTreeMap::from([
                ("GroupId".to_string(), vec!["sg-1".to_string()]),
                (
                    "IpPermissions".to_string(),
                    vec![r#"[{"FromPort":22,"IpProtocol":"tcp","IpRanges":[{"CidrIp":"0.0.0.0/0"}],"ToPort":22},{"IpProtocol":"-1","Ipv6Ranges":[{"CidrIpv6":"::/0"}]}]"#.to_string()],
                ),
            ])
        );
    }

    #[test]
    fn remediation_evidence_round_trips_through_json() {
        let evidence =
            RemediationEvidence::OpenIngress(vec![open("tcp", Some((3389, 3389)), "::/0")]);
        let text = serde_json::to_string(&evidence).unwrap();
        assert_eq!(
            text,
            r#"{"open_ingress":[{"protocol":"tcp","from_port":3389,"to_port":3389,"source":"::/0"}]}"#
        );
        assert_eq!(
            serde_json::from_str::<RemediationEvidence>(&text).unwrap(),
            evidence
        );
    }
}
