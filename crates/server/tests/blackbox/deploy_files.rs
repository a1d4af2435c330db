//! Black-box checks of the deployment files in `deploy/`, as an operator would
//! use them: the Kubernetes manifests and the Compose file match their schemas,
//! `kubectl apply -k deploy/k8s` would apply every manifest but the example
//! Secret, and every variable the server reads is in `.env.example` and in the
//! ConfigMap or the Secret, with values the binary's own checks accept.
//!
//! The schema checks need `kubernetes-validate` and `check-jsonschema` (installed
//! by .ci/run; `CHITCHAT_KUBERNETES_VALIDATE` and `CHITCHAT_CHECK_JSONSCHEMA` name
//! the executables) and are skipped without them unless
//! `CHITCHAT_REQUIRE_DEPLOY_CHECKS=1`.

use crate::support;
use chitchat_testkit::services::skip_unless_required;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const REQUIRE: &str = "CHITCHAT_REQUIRE_DEPLOY_CHECKS";
/// The Kubernetes version the manifests are checked against: the oldest we
/// support (autoscaling/v2 and policy/v1 are much older).
const KUBERNETES_VERSION: &str = "1.31.0";
/// Exit status of `chitchat` for bad configuration.
const BAD_CONFIGURATION: i32 = 2;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    let path = repository().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tool(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Runs a checker; None (skipped, or a failure when required) when it does not run.
fn run_checker(executable: &Path, args: &[&str]) -> Option<std::process::Output> {
    match Command::new(executable).args(args).current_dir(repository()).output() {
        Ok(output) => Some(output),
        Err(error) => skip_unless_required(REQUIRE, &executable.display().to_string(), error),
    }
}

fn printed(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The manifests `kubectl apply -k` should apply: every YAML file in deploy/k8s
/// but the kustomization itself and the example Secret.
fn manifests() -> BTreeSet<String> {
    std::fs::read_dir(repository().join("deploy/k8s"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") && name != "kustomization.yaml" && name != "secret.example.yaml")
        .collect()
}

/// `key: value` pairs (quotes removed) of the top-level map `section` (such as
/// `data:`), for flat maps of strings as ConfigMaps and Secrets hold them.
fn flat_map(yaml: &str, section: &str) -> Vec<(String, String)> {
    let mut lines = yaml.lines().skip_while(|line| *line != section).skip(1);
    let mut pairs = Vec::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some(entry) = line.strip_prefix("  ") else { break };
        let (key, value) = entry.split_once(':').unwrap_or_else(|| panic!("not a key: value line: {line:?}"));
        pairs.push((key.trim().to_owned(), value.trim().trim_matches('"').to_owned()));
    }
    pairs
}

/// The variables the server reads: the fields of `Raw` in its configuration
/// module (read from the environment under their upper-case names), and
/// RUST_LOG, which tracing's filter reads at start-up.
fn variables_the_server_reads() -> Vec<String> {
    let config = read("crates/server/src/config/raw.rs");
    let raw = config.split("struct Raw {").nth(1).expect("struct Raw in config/raw.rs");
    let raw = &raw[..raw.find('}').expect("end of struct Raw")];
    let mut names: Vec<String> = raw
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .filter(|(name, _)| !name.starts_with("//"))
        .map(|(name, _)| name.trim_start_matches("pub(super) ").to_uppercase())
        .collect();
    assert!(names.len() > 20, "the fields of Raw were not found: {names:?}");
    names.push("RUST_LOG".to_owned());
    names
}

/// The variables named in the ConfigMap's "Not set here:" comment, one per line
/// (`#   NAME  why`).
fn left_unset(configmap: &str) -> BTreeSet<String> {
    configmap
        .lines()
        .skip_while(|line| *line != "# Not set here:")
        .skip(1)
        .map_while(|line| line.strip_prefix("#   "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn kubernetes_manifests_match_the_kubernetes_schemas() {
    let files: Vec<String> =
        manifests().into_iter().chain(["secret.example.yaml".to_owned()]).map(|f| format!("deploy/k8s/{f}")).collect();
    let mut args = vec!["--strict", "-k", KUBERNETES_VERSION];
    args.extend(files.iter().map(String::as_str));
    let Some(output) = run_checker(&tool("CHITCHAT_KUBERNETES_VALIDATE", "kubernetes-validate"), &args) else {
        return;
    };
    let report = printed(&output);
    assert!(output.status.success(), "kubernetes-validate found errors:\n{report}");
    // A kind without a schema is only a warning: make sure every resource was checked.
    let resources: usize = files.iter().map(|f| read(f).lines().filter(|l| l.starts_with("kind:")).count()).sum();
    let passed = report.matches(" passed for resource ").count();
    assert_eq!(passed, resources, "every resource validated against a schema:\n{report}");
}

#[test]
fn the_compose_files_match_the_compose_specification() {
    let args = ["--builtin-schema", "vendor.compose-spec", "deploy/docker-compose.yml", "deploy/compose.single.yml"];
    let Some(output) = run_checker(&tool("CHITCHAT_CHECK_JSONSCHEMA", "check-jsonschema"), &args) else { return };
    assert!(output.status.success(), "check-jsonschema found errors:\n{}", printed(&output));
}

#[test]
fn the_kustomization_applies_every_manifest_but_the_example_secret() {
    let kustomization = read("deploy/k8s/kustomization.yaml");
    let listed: BTreeSet<String> = kustomization
        .lines()
        .skip_while(|line| *line != "resources:")
        .skip(1)
        .map_while(|line| line.trim().strip_prefix("- "))
        .map(str::to_owned)
        .collect();
    assert_eq!(listed, manifests(), "kustomization.yaml resources");

    // The Deployment reads the ConfigMap and the Secret that exist under those names.
    let deployment = read("deploy/k8s/deployment.yaml");
    for (file, reference) in [("configmap.yaml", "configMapRef:"), ("secret.example.yaml", "secretRef:")] {
        let name = flat_map(&read(&format!("deploy/k8s/{file}")), "metadata:")
            .into_iter()
            .find(|(key, _)| key == "name")
            .map(|(_, name)| name)
            .unwrap();
        let referenced = deployment
            .lines()
            .skip_while(|line| line.trim().trim_start_matches("- ") != reference)
            .nth(1)
            .and_then(|line| line.trim().strip_prefix("name: "));
        assert_eq!(referenced, Some(name.as_str()), "deployment.yaml {reference} names {file}");
    }
}

#[test]
fn every_variable_the_server_reads_is_in_the_env_example_and_the_kubernetes_settings() {
    let env_example = read("deploy/.env.example");
    let configmap = read("deploy/k8s/configmap.yaml");
    let secret = read("deploy/k8s/secret.example.yaml");
    let keys: BTreeSet<String> =
        flat_map(&configmap, "data:").into_iter().chain(flat_map(&secret, "stringData:")).map(|(k, _)| k).collect();
    let unset = left_unset(&configmap);
    for name in variables_the_server_reads() {
        let listed = env_example.lines().any(|line| {
            let line = line.strip_prefix("# ").unwrap_or(line);
            line.strip_prefix(name.as_str()).is_some_and(|rest| rest.starts_with('='))
        });
        assert!(listed, "{name} is missing from deploy/.env.example (as {name}=default or # {name}=example)");
        assert!(
            keys.contains(&name) || unset.contains(&name),
            "{name} is neither set in deploy/k8s/configmap.yaml or secret.example.yaml \
             nor listed under \"Not set here\" in configmap.yaml"
        );
    }
}

/// The settings in `deploy/.env.example`, set (`NAME=value`) or shown (`# NAME=value`).
fn env_example_names() -> Vec<String> {
    read("deploy/.env.example")
        .lines()
        .map(|line| line.strip_prefix("# ").unwrap_or(line))
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_owned)
        .collect()
}

/// The variables the Compose file gives both instances (the `environment:` map of
/// its shared `x-chitchat` settings).
fn compose_instance_variables() -> BTreeSet<String> {
    let compose = read("deploy/docker-compose.yml");
    let shared = compose.split("\nx-chitchat:").nth(1).expect("x-chitchat in docker-compose.yml");
    shared
        .lines()
        .skip_while(|line| line.trim() != "environment:")
        .skip(1)
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map_while(|line| line.strip_prefix("    "))
        .filter_map(|line| line.split_once(':').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_setting_of_the_env_example_reaches_the_compose_instances() {
    // Settings Compose fixes itself or that are not the server's.
    let not_passed = [
        ("PORT", "the image's 8080, which nginx's upstream names"),
        ("HOST", "the image's 0.0.0.0"),
        ("DATA_DIR", "the image's /data, the shared volume"),
        ("REDIS_PASSWORD", "Compose's own Redis has none"),
        ("REDIS_DB", "Compose's own Redis"),
        ("OTP_FIXED_CODE", "refused with ENV=production"),
        ("POSTGRES_PASSWORD", "for the postgres container, inside DATABASE_URL"),
        ("TLS_CERT_DIR", "for the nginx container"),
    ];
    let passed = compose_instance_variables();
    assert!(passed.len() > 20, "the instances' environment was not found: {passed:?}");
    let names = env_example_names();
    for (name, why) in not_passed {
        assert!(names.iter().any(|n| n == name), "{name} ({why}) is no longer in .env.example: drop it here");
    }
    let missing: Vec<&String> =
        names.iter().filter(|name| !passed.contains(*name) && !not_passed.iter().any(|(n, _)| n == *name)).collect();
    assert!(missing.is_empty(), "deploy/.env.example settings that docker-compose.yml does not pass on: {missing:?}");
}

/// Runs `chitchat healthcheck` with only `env`: it reads and checks the
/// configuration like the server does before it asks the (absent) server.
fn configuration_check(env: &[(String, String)]) -> (Option<i32>, String) {
    let output = Command::new(support::BINARY)
        .arg("healthcheck")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    (output.status.code(), printed(&output))
}

#[test]
fn the_shipped_settings_pass_the_servers_own_checks() {
    let kubernetes: Vec<(String, String)> = flat_map(&read("deploy/k8s/configmap.yaml"), "data:")
        .into_iter()
        .chain(flat_map(&read("deploy/k8s/secret.example.yaml"), "stringData:"))
        .collect();
    let (status, printed) = configuration_check(&kubernetes);
    assert_ne!(status, Some(BAD_CONFIGURATION), "the ConfigMap with the example Secret: {printed}");

    let env_example: Vec<(String, String)> = read("deploy/.env.example")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(env_example.len() > 20, "the settings of deploy/.env.example were not found");
    let (status, printed) = configuration_check(&env_example);
    assert_ne!(status, Some(BAD_CONFIGURATION), "deploy/.env.example as shipped: {printed}");

    // The check can fail: a bad value is refused with its variable named.
    let mut broken = kubernetes.clone();
    broken.retain(|(k, _)| k != "WS_PONG_WAIT");
    broken.push(("WS_PONG_WAIT".to_owned(), "a minute".to_owned()));
    let (status, printed) = configuration_check(&broken);
    assert_eq!(status, Some(BAD_CONFIGURATION), "{printed}");
    assert!(printed.contains("WS_PONG_WAIT"), "{printed}");
}
