//! Resource policy analysis (S3 bucket policies, Lambda function policies). Policies are user-controlled JSON: every field may be a string or an
//! array, `Statement` may be a single object, and anything unexpected is skipped, never a panic.

use serde_json::Value;

/// A statement, reduced to the parts the checks need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub allow: bool,
    pub deny: bool,
    /// `Principal: "*"`, or an AWS / CanonicalUser principal containing a wildcard.
    pub wildcard_principal: bool,
    /// `NotPrincipal` grants to everyone but the listed principals.
    pub not_principal: bool,
    /// The `AWS` principals (account ids, ARNs, `*`) of `Principal`.
    pub aws_principals: Vec<String>,
    /// The `CanonicalUser` principals of `Principal`.
    pub canonical_principals: Vec<String>,
    /// The `Service` principals of `Principal` (`s3.amazonaws.com`, ...).
    pub service_principals: Vec<String>,
    pub actions: Vec<String>,
    pub not_actions: bool,
    pub resources: Vec<String>,
    /// `(operator, key, values)` triples, operator and key lower-cased.
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BucketPolicy {
    pub statements: Vec<Statement>,
}

/// Why a policy could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyParseError(pub String);

/// Condition keys that, with a fixed value, restrict a statement to known parties or networks
/// (the S3 definition of a non-public policy, plus the organisation and principal keys).
const NARROWING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

impl BucketPolicy {
    pub fn parse(document: &str) -> Result<Self, PolicyParseError> {
        let value: Value =
            serde_json::from_str(document).map_err(|e| PolicyParseError(e.to_string()))?;
        let statements = match value.get("Statement") {
            Some(Value::Array(items)) => items.iter().filter_map(parse_statement).collect(),
            Some(single @ Value::Object(_)) => parse_statement(single).into_iter().collect(),
            Some(_) => {
                return Err(PolicyParseError(
                    "`Statement` is neither an object nor an array".into(),
                ))
            }
            None => return Err(PolicyParseError("policy has no `Statement`".into())),
        };
        Ok(BucketPolicy { statements })
    }

    /// Statements that grant access to anyone on the internet.
    pub fn public_statements(&self) -> Vec<&Statement> {
        self.statements
            .iter()
            .filter(|s| s.allow && (s.wildcard_principal || s.not_principal) && !s.is_narrowed())
            .collect()
    }

    /// True when a statement denies every S3 action on the bucket's objects to everyone whenever
    /// the request is not over TLS (`aws:SecureTransport` is false).
    pub fn denies_insecure_transport(&self, bucket: &str) -> bool {
        let objects = format!("arn:aws:s3:::{bucket}/*");
        self.statements.iter().any(|s| {
            s.deny
                && s.wildcard_principal
                && !s.not_actions
                && s.actions
                    .iter()
                    .any(|a| a == "*" || a.eq_ignore_ascii_case("s3:*"))
                && s.resources
                    .iter()
                    .any(|r| r == "*" || wildcard_match(r, &objects))
                && s.conditions.iter().any(|c| {
                    (c.operator == "bool" || c.operator == "boolifexists")
                        && c.key == "aws:securetransport"
                        && c.values.iter().any(|v| v.eq_ignore_ascii_case("false"))
                })
        })
    }
}

/// A statement of a bucket policy that lets a principal of another account perform actions of
/// a given list (S3.6, Config rule s3-bucket-blacklisted-actions-prohibited).
#[derive(Debug, Clone, PartialEq)]
pub struct CrossAccountGrant<'a> {
    pub statement: &'a Statement,
    /// The principals outside the account (`*` for a wildcard or `NotPrincipal`).
    pub principals: Vec<String>,
    /// The listed actions the statement allows them.
    pub actions: Vec<&'static str>,
}

impl BucketPolicy {
    /// `Allow` statements that grant a principal outside `account_id` any of `actions`
    /// (case-insensitive; wildcards in `Action` count, `NotAction` allows what it does not
    /// list). As the Config rule, only the `Principal` is read: conditions are not considered.
    /// `owner_canonical_id` is the bucket owner's canonical user id; `None` when unknown, and
    /// then a `CanonicalUser` principal is an error (`Err` names it) rather than a guess.
    pub fn cross_account_grants(
        &self,
        account_id: &str,
        owner_canonical_id: Option<&str>,
        actions: &[&'static str],
    ) -> Result<Vec<CrossAccountGrant<'_>>, String> {
        let mut out = Vec::new();
        for s in self.statements.iter().filter(|s| s.allow) {
            let mut principals = Vec::new();
            if s.wildcard_principal || s.not_principal {
                principals.push("*".to_string());
            }
            for p in &s.aws_principals {
                if !p.contains('*') && principal_account(p).is_some_and(|a| a != account_id) {
                    principals.push(p.clone());
                }
            }
            for c in &s.canonical_principals {
                match owner_canonical_id {
                    Some(owner) if c == owner => {}
                    Some(_) => principals.push(c.clone()),
                    None => return Err(format!("CanonicalUser principal {c}")),
                }
            }
            if principals.is_empty() {
                continue;
            }
            let allowed: Vec<&'static str> = actions
                .iter()
                .copied()
                .filter(|action| {
                    let listed = s.actions.iter().any(|a| {
                        wildcard_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase())
                    });
                    listed != s.not_actions
                })
                .collect();
            if !allowed.is_empty() {
                out.push(CrossAccountGrant {
                    statement: s,
                    principals,
                    actions: allowed,
                });
            }
        }
        Ok(out)
    }
}

/// The account an `AWS` principal names: a 12-digit id, or the account field of an ARN
/// (`arn:aws:iam::111122223333:role/x`; `cloudfront` for an origin access identity).
fn principal_account(principal: &str) -> Option<&str> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal);
    }
    let mut fields = principal.strip_prefix("arn:")?.split(':');
    fields.nth(3).filter(|a| !a.is_empty())
}

impl Statement {
    /// A condition with a fixed (wildcard-free, positive-match) value on a narrowing key.
    pub fn is_narrowed(&self) -> bool {
        self.is_narrowed_by(NARROWING_KEYS)
    }

    /// A condition with a fixed (wildcard-free, positive-match) value on one of `keys`
    /// (lower-case).
    pub fn is_narrowed_by(&self, keys: &[&str]) -> bool {
        self.conditions.iter().any(|c| {
            // Negated, IfExists and ForAllValues operators all pass when the key is absent.
            let positive = !c.operator.contains("not")
                && !c.operator.ends_with("ifexists")
                && !c.operator.starts_with("forallvalues:");
            let key_narrows = keys.contains(&c.key.as_str());
            let fixed = !c.values.is_empty()
                && c.values.iter().all(|v| {
                    if c.key == "aws:sourceip" {
                        !v.trim().ends_with("/0")
                    } else if c.key == "aws:userid" {
                        // `AROLEID:*` (every session of one role) is the one fixed pattern S3 allows.
                        match v.strip_suffix(":*") {
                            Some(role) => !role.is_empty() && !role.contains(['*', '?']),
                            None => !v.contains(['*', '?']),
                        }
                    } else {
                        !v.contains('*') && !v.contains('?')
                    }
                });
            positive && key_narrows && fixed
        })
    }
}

fn parse_statement(value: &Value) -> Option<Statement> {
    let obj = value.as_object()?;
    let effect = obj
        .get("Effect")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut statement = Statement {
        sid: obj.get("Sid").and_then(Value::as_str).map(str::to_string),
        allow: effect.eq_ignore_ascii_case("allow"),
        deny: effect.eq_ignore_ascii_case("deny"),
        not_principal: obj.contains_key("NotPrincipal"),
        not_actions: obj.contains_key("NotAction"),
        ..Default::default()
    };
    statement.wildcard_principal = obj.get("Principal").is_some_and(is_wildcard_principal);
    if let Some(Value::Object(map)) = obj.get("Principal") {
        statement.aws_principals = strings(map.get("AWS"));
        statement.canonical_principals = strings(map.get("CanonicalUser"));
        statement.service_principals = strings(map.get("Service"));
    }
    statement.actions = strings(obj.get("Action").or_else(|| obj.get("NotAction")));
    statement.resources = strings(obj.get("Resource").or_else(|| obj.get("NotResource")));
    if let Some(Value::Object(operators)) = obj.get("Condition") {
        for (operator, keys) in operators {
            let Some(keys) = keys.as_object() else {
                continue;
            };
            for (key, values) in keys {
                statement.conditions.push(Condition {
                    operator: strip_set_operator(&operator.to_ascii_lowercase()),
                    key: key.to_ascii_lowercase(),
                    values: strings(Some(values)),
                });
            }
        }
    }
    Some(statement)
}

fn strip_set_operator(operator: &str) -> String {
    operator.trim_start_matches("foranyvalue:").to_string()
}

fn is_wildcard_principal(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map
            .iter()
            .filter(|(kind, _)| *kind == "AWS" || *kind == "CanonicalUser")
            .any(|(_, v)| strings(Some(v)).iter().any(|p| p.contains('*'))),
        _ => false,
    }
}

/// A string, an array of strings, a boolean or a number, as strings; anything else is ignored.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Array(items)) => items.iter().flat_map(|i| strings(Some(i))).collect(),
        _ => Vec::new(),
    }
}

/// IAM-style wildcard matching (`*` any run, `?` one character), iterative so that hostile
/// patterns cannot blow the stack or take exponential time.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(doc: &str) -> bool {
        !BucketPolicy::parse(doc)
            .unwrap()
            .public_statements()
            .is_empty()
    }

    #[test]
    fn allow_to_star_is_public_in_every_principal_shape() {
        assert!(public(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
        ));
        assert!(public(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#
        ));
        assert!(public(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","*"]},"Action":["s3:GetObject"],"Resource":"*"}]}"#
        ));
        assert!(public(
            r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}]}"#
        ));
    }

    #[test]
    fn fixed_principals_and_denies_are_not_public() {
        assert!(!public(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}]}"#
        ));
        assert!(!public(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}]}"#
        ));
        assert!(!public(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#
        ));
    }

    #[test]
    fn narrowing_conditions_make_a_star_grant_non_public() {
        for (op, key, value) in [
            ("StringEquals", "aws:SourceVpce", "\"vpce-1a2b3c4d\""),
            ("StringEquals", "aws:PrincipalOrgID", "[\"o-abc123\"]"),
            ("StringEquals", "aws:SourceAccount", "\"111122223333\""),
            (
                "ArnEquals",
                "aws:SourceArn",
                "\"arn:aws:cloudfront::111122223333:distribution/E1\"",
            ),
            ("IpAddress", "aws:SourceIp", "[\"203.0.113.0/24\"]"),
            ("ForAnyValue:StringEquals", "aws:SourceVpc", "\"vpc-1\""),
            ("StringLike", "aws:userid", "\"AROAEXAMPLEID:*\""),
        ] {
            let doc = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{{"{op}":{{"{key}":{value}}}}}}}]}}"#
            );
            assert!(!public(&doc), "{op} {key} should narrow: {doc}");
        }
    }

    #[test]
    fn conditions_that_do_not_narrow_keep_the_grant_public() {
        for cond in [
            r#"{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}"#,
            r#"{"StringLike":{"aws:SourceVpce":"vpce-*"}}"#,
            r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
            r#"{"StringEquals":{"s3:x-amz-acl":"public-read"}}"#,
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            r#"{"ForAllValues:StringEquals":{"aws:SourceVpc":"vpc-1"}}"#,
            r#"{"StringLike":{"aws:userid":"*"}}"#,
        ] {
            let doc = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{cond}}}]}}"#
            );
            assert!(public(&doc), "should stay public: {cond}");
        }
    }

    #[test]
    fn secure_transport_deny_is_recognised_exactly() {
        let ok = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert!(BucketPolicy::parse(ok)
            .unwrap()
            .denies_insecure_transport("b"));
        let bool_value = r#"{"Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}}"#;
        assert!(BucketPolicy::parse(bool_value)
            .unwrap()
            .denies_insecure_transport("b"));
        for bad in [
            // Only one action denied.
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
            // Allow instead of deny.
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#,
            // Another bucket's objects.
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::other/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
            // Only one principal.
            r#"{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
        ] {
            assert!(
                !BucketPolicy::parse(bad)
                    .unwrap()
                    .denies_insecure_transport("b"),
                "{bad}"
            );
        }
    }

    const DENIED: &[&str] = &[
        "s3:DeleteBucketPolicy",
        "s3:PutBucketAcl",
        "s3:PutBucketPolicy",
        "s3:PutEncryptionConfiguration",
        "s3:PutObjectAcl",
    ];

    fn cross(doc: &str) -> Vec<Vec<&'static str>> {
        BucketPolicy::parse(doc)
            .unwrap()
            .cross_account_grants("111111111111", Some("owner"), DENIED)
            .unwrap()
            .into_iter()
            .map(|g| g.actions)
            .collect()
    }

    #[test]
    fn cross_account_denied_actions() {
        let other = |action: &str, principal: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":{action},"Resource":"*"}}]}}"#
            )
        };
        // Another account, by id or ARN, and the wildcard principal.
        assert_eq!(
            cross(&other(
                r#""s3:PutBucketPolicy""#,
                r#"{"AWS":"222222222222"}"#
            )),
            vec![vec!["s3:PutBucketPolicy"]]
        );
        assert_eq!(
            cross(&other(
                r#""s3:putobjectacl""#,
                r#"{"AWS":"arn:aws:iam::222222222222:role/x"}"#
            )),
            vec![vec!["s3:PutObjectAcl"]]
        );
        assert_eq!(cross(&other(r#""s3:Put*""#, r#""*""#))[0].len(), 4);
        assert_eq!(
            cross(&other(r#""*""#, r#"{"AWS":"arn:aws:iam::*:root"}"#))[0].len(),
            5
        );
        assert_eq!(
            cross(&other(r#""s3:*""#, r#"{"CanonicalUser":"someone-else"}"#))[0].len(),
            5
        );
        // NotAction allows everything it does not list.
        let not_action = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"NotAction":["s3:Put*"],"Resource":"*"}}"#;
        assert_eq!(cross(not_action), vec![vec!["s3:DeleteBucketPolicy"]]);
        // Conditions are not considered (the Config rule reads only the Principal).
        let conditioned = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutBucketAcl","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#;
        assert_eq!(cross(conditioned), vec![vec!["s3:PutBucketAcl"]]);
        // Compliant: own account, services, other actions, denies.
        for doc in [
            other(r#""s3:*""#, r#"{"AWS":"arn:aws:iam::111111111111:root"}"#),
            other(r#""s3:*""#, r#"{"AWS":"111111111111"}"#),
            other(r#""s3:*""#, r#"{"CanonicalUser":"owner"}"#),
            other(r#""s3:*""#, r#"{"Service":"logging.s3.amazonaws.com"}"#),
            other(
                r#"["s3:GetObject","s3:PutObject","s3:GetBucketAcl"]"#,
                r#""*""#,
            ),
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#
                .to_string(),
        ] {
            assert!(cross(&doc).is_empty(), "{doc}");
        }
        // An owner id we could not read is not guessed at.
        let canonical = other(r#""s3:*""#, r#"{"CanonicalUser":"abc"}"#);
        assert!(BucketPolicy::parse(&canonical)
            .unwrap()
            .cross_account_grants("111111111111", None, DENIED)
            .is_err());
    }

    #[test]
    fn hostile_documents_never_panic() {
        for doc in [
            "",
            "null",
            "[]",
            r#"{"Statement":42}"#,
            r#"{"Statement":[1,"x",null,{"Effect":7,"Principal":[],"Action":{},"Condition":"c"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":{"nested":"*"}},"Condition":{"StringEquals":"x"}}]}"#,
        ] {
            let _ = BucketPolicy::parse(doc).map(|p| p.public_statements().len());
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(BucketPolicy::parse(&deep).is_err());
        let many = format!(
            r#"{{"Statement":[{}]}}"#,
            vec![r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject","Resource":"*"}"#; 20_000].join(",")
        );
        assert!(BucketPolicy::parse(&many)
            .unwrap()
            .public_statements()
            .is_empty());
    }

    #[test]
    fn wildcard_matching() {
        assert!(wildcard_match("arn:aws:s3:::b/*", "arn:aws:s3:::b/*"));
        assert!(wildcard_match("arn:aws:s3:::*", "arn:aws:s3:::b/*"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("arn:aws:s3:::other/*", "arn:aws:s3:::b/*"));
        assert!(wildcard_match(&"*a".repeat(50), &"a".repeat(200)));
    }
}
