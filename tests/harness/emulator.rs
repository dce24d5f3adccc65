//! Rust side of the test harness: starts the patched moto server (`emulator.py`) on a free
//! port, seeds estates, and hands tests the environment that points the product at it.
//! Shared by the crates' integration tests through `#[path]`; never part of a product crate.
//!
//! The tests that use it are `#[ignore]`d, so a plain `cargo test` runs only the pure and
//! in-memory tests and lists these as ignored with the reason; `make test` (and CI, through it)
//! runs them with `--include-ignored`, and then a missing venv fails them: nothing is skipped.
//! One of them alone: `cargo test -p compliance-cli --test scan_emulator -- --include-ignored`.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::Value;

pub const ACCOUNT_ID: &str = "123456789012";

/// A finding as the tests compare them: (rule id, resource ARN, region).
pub type FindingKey = (String, String, String);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// The virtualenv's Python (made by `make venv`), or `COMPLIANCE_PYTHON`.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("COMPLIANCE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run `make venv` (or `make test`) first",
        venv.display()
    );
    venv
}

/// POSTs a JSON body to a harness control endpoint; panics unless it answers 2xx.
fn post_control(base: &str, path: &str, body: &str) {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut stream =
        std::net::TcpStream::connect(host).unwrap_or_else(|e| panic!("connect to {host}: {e}"));
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 2"),
        "{path} answered {response}"
    );
}

/// A fresh directory for one test's files.
pub fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "compliance-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub struct Emulator {
    child: Child,
    // Held open: the emulator exits when its standard input closes, so it cannot outlive us.
    _stdin: ChildStdin,
    pub endpoint: String,
    /// The endpoint and proxy variables the emulator named (emulator.py, product_environment).
    endpoint_environment: Vec<(String, String)>,
}

impl Emulator {
    pub fn start() -> Emulator {
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/harness/emulator.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator");
        let stdin = child.stdin.take().expect("emulator stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("emulator stdout"))
            .read_line(&mut line)
            .expect("read the emulator's endpoint line");
        let ready: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("emulator said {line:?}: {e}"));
        Emulator {
            child,
            _stdin: stdin,
            endpoint: ready["AWS_ENDPOINT_URL"]
                .as_str()
                .expect("endpoint")
                .to_string(),
            endpoint_environment: ready["env"]
                .as_object()
                .expect("the emulator names its environment")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("variable value").to_string()))
                .collect(),
        }
    }

    /// Makes the emulator refuse every call signed for these `service:region` pairs, as AWS
    /// does for a caller without permission (an empty list lifts the denial).
    pub fn deny(&self, pairs: &[&str]) {
        post_control(
            &self.endpoint,
            "/_harness/deny",
            &serde_json::to_string(pairs).unwrap(),
        );
    }

    /// Makes sts:AssumeRole into any role of these accounts answer AccessDenied, as STS does
    /// for a role that does not trust the caller (an empty list lifts the denial).
    pub fn deny_assume_role(&self, accounts: &[&str]) {
        post_control(
            &self.endpoint,
            "/_harness/deny-assume-role",
            &serde_json::to_string(accounts).unwrap(),
        );
    }

    /// Makes Security Hub refuse each finding of these rules its next `times` imports
    /// (`[{"generator_id": RULE, "times": N}]`).
    pub fn reject_security_hub(&self, rules: &Value) {
        post_control(
            &self.endpoint,
            "/_harness/securityhub-reject",
            &rules.to_string(),
        );
    }

    /// Appends one JSON line per AWS request from now on to `path` (emulator.py, `log_request`:
    /// service, region, action, access key, the role behind an assumed role's key).
    pub fn log_requests(&self, path: &Path) {
        post_control(
            &self.endpoint,
            "/_harness/request-log",
            &serde_json::json!({ "path": path }).to_string(),
        );
    }

    /// Environment for a product process talking to this emulator.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = self.endpoint_environment.clone();
        for (k, v) in [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ] {
            env.push((k.to_string(), v.to_string()));
        }
        env
    }

    /// Runs a harness Python script against this emulator and returns its standard output.
    pub fn python_script(&self, script: &str, args: &[&str]) -> String {
        let out = Command::new(python())
            .arg(repo_root().join("tests/harness").join(script))
            .args(args)
            .envs(self.env())
            .output()
            .expect("run harness script");
        assert!(
            out.status.success(),
            "{script} {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// [`Emulator::python_script`] with `input` on the script's standard input.
    pub fn python_script_with_input(&self, script: &str, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/harness").join(script))
            .args(args)
            .envs(self.env())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run harness script");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input).expect("write the script's input");
        }
        let out = child.wait_with_output().expect("harness script output");
        assert!(
            out.status.success(),
            "{script} {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Seeds the misconfigured estate (and the scanner's config parameters); returns the manifest.
    pub fn seed(&self, scale: u32, dir: &Path) -> Manifest {
        self.seed_with(scale, dir, &[])
    }

    /// Seeds the estate into the management account and the organization of
    /// tests/estate/organization.json (member accounts with their own estates, one whose role
    /// the emulator refuses), and the config parameters, the accounts parameter included
    /// (`{"source":"organization"}`); returns the manifest.
    pub fn seed_organization(&self, scale: u32, dir: &Path) -> Manifest {
        self.seed_with(scale, dir, &["--organization"])
    }

    fn seed_with(&self, scale: u32, dir: &Path, extra: &[&str]) -> Manifest {
        let manifest = dir.join(format!("manifest-{scale}.json"));
        let scale = scale.to_string();
        let mut args = vec![
            "--endpoint",
            &self.endpoint,
            "--scale",
            &scale,
            "--manifest",
            manifest.to_str().unwrap(),
            "--config-params",
        ];
        args.extend_from_slice(extra);
        self.python_script("seed_estate.py", &args);
        Manifest::load(&manifest)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the seeder created (logical name → type, region, id, arn), and the estate file it
/// created it from (tests/estate/estate.json, format in tests/estate/README.md).
pub struct Manifest {
    pub raw: Value,
}

impl Manifest {
    pub fn load(path: &Path) -> Manifest {
        let text = std::fs::read_to_string(path).expect("manifest");
        Manifest {
            raw: serde_json::from_str(&text).expect("manifest JSON"),
        }
    }

    /// The entry of `logical` in `region` (regional resources share logical names across regions).
    pub fn get(&self, logical: &str, region: &str) -> &Value {
        entry_in(
            self.raw.get("resources").unwrap_or(&self.raw),
            logical,
            region,
        )
    }

    pub fn arn(&self, logical: &str, region: &str) -> String {
        self.get(logical, region)["arn"]
            .as_str()
            .expect("arn")
            .to_string()
    }

    /// The estate file the seeder read (named in the manifest, so the two cannot disagree).
    pub fn estate(&self) -> Value {
        let path = self.raw["estate"]
            .as_str()
            .expect("the manifest names its estate file");
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("estate file {path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("estate file {path}: {e}"))
    }

    /// The findings the seeded estate of the management (or only) account must produce: every
    /// estate entry's `expect` (and its root volume's) in each of its regions and copies, named
    /// by the ARNs the seeder recorded. Every listed resource must be in the manifest, expected
    /// findings or not.
    pub fn expected_findings(&self) -> BTreeSet<FindingKey> {
        let scale = self.raw["scale"].as_u64().expect("manifest scale");
        let resources = self.raw.get("resources").unwrap_or(&self.raw);
        expected_in(&self.estate(), scale, resources)
    }

    /// The accounts of the seeded organization (`seed_organization`), the management account
    /// first; panics if the manifest has no organization.
    pub fn accounts(&self) -> Vec<OrgAccount> {
        self.organization_accounts()
            .iter()
            .map(|a| OrgAccount {
                id: a["id"].as_str().expect("account id").to_string(),
                name: a["name"].as_str().expect("account name").to_string(),
                role: a["role"].as_str().map(str::to_string),
                reachable: a["reachable"].as_bool().expect("account reachable"),
                management: a["management"].as_bool().expect("account management"),
            })
            .collect()
    }

    /// Account id → name (as Organizations lists it) for every account of the organization.
    pub fn account_names(&self) -> BTreeMap<String, String> {
        self.accounts()
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect()
    }

    /// The id of the member account named `name` in tests/estate/organization.json.
    pub fn account_id(&self, name: &str) -> String {
        self.accounts()
            .into_iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("the organization has no account named {name}"))
            .id
    }

    /// The members whose role cannot be assumed (the emulator denies it).
    pub fn unreachable_account_ids(&self) -> Vec<String> {
        self.accounts()
            .into_iter()
            .filter(|a| !a.reachable)
            .map(|a| a.id)
            .collect()
    }

    /// The one member whose role cannot be assumed.
    pub fn unreachable_account_id(&self) -> String {
        let ids = self.unreachable_account_ids();
        assert_eq!(ids.len(), 1, "expected one unreachable account: {ids:?}");
        ids[0].clone()
    }

    /// Every reachable account's exact findings, by account id: the management account's are
    /// `expected_findings()`, each member's come from its estate in the organization file and
    /// the resources seeded into it. Unreachable accounts have no entry (nothing can be found
    /// there: the scan reports them as errors).
    pub fn expected_findings_by_account(&self) -> BTreeMap<String, BTreeSet<FindingKey>> {
        let mut by_account = BTreeMap::new();
        for account in self.organization_accounts() {
            let id = account["id"].as_str().expect("account id").to_string();
            if account["management"] == Value::Bool(true) {
                by_account.insert(id, self.expected_findings());
            } else if account["reachable"] == Value::Bool(true) {
                let scale = account["scale"].as_u64().expect("member scale");
                let findings = expected_in(&account["estate"], scale, &account["resources"]);
                by_account.insert(id, findings);
            }
        }
        by_account
    }

    fn organization_accounts(&self) -> &Vec<Value> {
        self.raw["organization"]["accounts"]
            .as_array()
            .expect("the manifest has an organization (seed with Emulator::seed_organization)")
    }
}

/// An account of the seeded organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// The member role (`arn:aws:iam::<id>:role/ComplianceScannerMemberRole`); None for the
    /// management account, which the scanner reaches with its own credentials.
    pub role: Option<String>,
    pub reachable: bool,
    pub management: bool,
}

/// The seeded resource `logical` in `region` among one account's manifest `resources`.
fn entry_in<'a>(resources: &'a Value, logical: &str, region: &str) -> &'a Value {
    entries_in(resources, logical, region)[0]
}

/// Every seeded resource named `logical` in `region`: one, except for a one-per-region entry
/// that stands for several resources (`default_subnets`: one per Availability Zone).
fn entries_in<'a>(resources: &'a Value, logical: &str, region: &str) -> Vec<&'a Value> {
    let entries: Vec<&Value> = match resources {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => map.values().collect(),
        _ => Vec::new(),
    };
    let found: Vec<&Value> = entries
        .into_iter()
        .filter(|e| {
            e["logical"] == logical
                && (e["region"] == region || e["type"] == "bucket")
                && e.get("deleted") != Some(&Value::Bool(true))
        })
        .collect();
    assert!(!found.is_empty(), "manifest has no {logical} in {region}");
    found
}

/// The findings one account's estate must produce, given what was seeded into it.
fn expected_in(estate: &Value, scale: u64, resources: &Value) -> BTreeSet<FindingKey> {
    let mut want = BTreeSet::new();
    for entry in estate["resources"].as_array().expect("estate resources") {
        let name = entry["name"].as_str().expect("estate entry name");
        let kind = entry["kind"].as_str().expect("estate entry kind");
        let one_per_region = estate["kinds"][kind]["one_per_region"] == Value::Bool(true);
        let regions = entry.get("regions").unwrap_or(&estate["regions"]);
        for region in regions.as_array().expect("regions list") {
            let region = region.as_str().expect("region name");
            let logicals: Vec<String> = if one_per_region {
                vec![format!("{name}@{region}")]
            } else {
                (0..scale).map(|i| format!("{name}#{i}")).collect()
            };
            for logical in logicals {
                for resource in entries_in(resources, &logical, region) {
                    expect(&mut want, resource, &entry["expect"]);
                }
                let root_rules = &entry["root_volume"]["expect"];
                if root_rules.as_array().is_some_and(|rules| !rules.is_empty()) {
                    let root = entry_in(resources, &format!("{logical}/root"), region);
                    expect(&mut want, root, root_rules);
                }
            }
        }
    }
    want
}

/// Adds `rules` about one manifest resource, in the resource's region.
fn expect(want: &mut BTreeSet<FindingKey>, resource: &Value, rules: &Value) {
    let arn = resource["arn"].as_str().expect("arn");
    let region = resource["region"].as_str().expect("region");
    for rule in rules.as_array().expect("`expect` is a list of rule ids") {
        let rule = rule.as_str().expect("rule id");
        want.insert((rule.to_string(), arn.to_string(), region.to_string()));
    }
}

impl Emulator {
    /// Tells the emulator's Step Functions engine where to invoke Lambda functions.
    pub fn set_lambda_endpoint(&self, endpoint: &str) {
        post_control(
            &self.endpoint,
            "/_harness/lambda-endpoint",
            &serde_json::json!({ "endpoint": endpoint }).to_string(),
        );
    }
}

/// The stack deployed into the emulator by deploy.py.
pub struct Deployment {
    pub outputs: Value,
    /// Function name → binary.
    pub functions: Vec<(String, PathBuf)>,
    /// Every function's environment variables (names of the stack's resources).
    pub environment: Vec<(String, String)>,
}

pub const STACK_NAME: &str = "compliance-scanner";

impl Deployment {
    /// Deploys template.yaml; functions are served by the binaries in `binaries_dir`.
    pub fn deploy(emu: &Emulator, binaries_dir: &Path) -> Deployment {
        let template = repo_root().join("template.yaml");
        let out = emu.python_script(
            "deploy.py",
            &[
                "--endpoint",
                &emu.endpoint,
                "--template",
                template.to_str().unwrap(),
                "--stack-name",
                STACK_NAME,
            ],
        );
        let line = out
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .expect("deploy.py printed its result");
        let result: Value = serde_json::from_str(line).expect("deploy.py result JSON");
        let functions = result["functions"]
            .as_object()
            .expect("functions map")
            .iter()
            .map(|(name, path)| {
                let binary = Path::new(path.as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_owned();
                (name.clone(), binaries_dir.join(binary))
            })
            .collect();
        let mut environment = Vec::new();
        for env in result["environment"]
            .as_object()
            .expect("environment map")
            .values()
        {
            for (k, v) in env.as_object().unwrap() {
                if !environment
                    .iter()
                    .any(|(name, _): &(String, String)| name == k)
                {
                    environment.push((k.clone(), v.as_str().unwrap_or_default().to_string()));
                }
            }
        }
        Deployment {
            outputs: result["outputs"].clone(),
            functions,
            environment,
        }
    }

    pub fn output(&self, key: &str) -> String {
        self.outputs[key]
            .as_str()
            .unwrap_or_else(|| panic!("stack output {key} missing: {}", self.outputs))
            .to_string()
    }
}

/// lambda_bridge.py serving the deployed functions' binaries through the Lambda Runtime API.
pub struct Bridge {
    child: Child,
    _stdin: ChildStdin,
    pub endpoint: String,
    /// Everything the functions wrote (structured JSON logs at info level).
    pub function_log: PathBuf,
}

impl Bridge {
    pub fn start(emu: &Emulator, deployment: &Deployment) -> Bridge {
        let mut cmd = Command::new(python());
        cmd.arg(repo_root().join("tests/harness/lambda_bridge.py"))
            .arg("serve");
        for (name, binary) in &deployment.functions {
            cmd.arg("--function")
                .arg(format!("{name}={}", binary.display()));
        }
        for (k, v) in &deployment.environment {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        let function_log = tempdir().join("functions.log");
        let mut child = cmd
            .envs(emu.env())
            .env("RUST_LOG", "info")
            .env("LAMBDA_BRIDGE_LOG_FILE", &function_log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Lambda bridge");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("bridge endpoint line");
        let ready: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("bridge said {line:?}: {e}"));
        let endpoint = ready["endpoint"].as_str().unwrap().to_string();
        emu.set_lambda_endpoint(&endpoint);
        Bridge {
            child,
            _stdin: stdin,
            endpoint,
            function_log,
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bridge {
    /// Makes the next `count` invocations of `function` whose event has the `matching` fields
    /// fail with `error_type` (a Lambda error the state machine sees as that error type).
    pub fn inject_faults(&self, faults: &Value) {
        post_control(&self.endpoint, "/_harness/faults", &faults.to_string());
    }
}

/// A local HTTP receiver standing in for a webhook's SIEM: answers 200 to every request and
/// keeps what it received.
pub struct HttpReceiver {
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<ReceivedRequest>>>,
}

#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ReceivedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl HttpReceiver {
    pub fn start() -> HttpReceiver {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().unwrap().port()
        );
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.trim_end().split_once(':') {
                        headers.push((k.trim().to_string(), v.trim().to_string()));
                    }
                }
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                sink.lock().unwrap().push(ReceivedRequest {
                    request_line: request_line.trim_end().to_string(),
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        HttpReceiver { url, received }
    }

    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.received.lock().unwrap().clone()
    }
}
