//! No Docker engine runs here, so the deployment files are checked by
//! construction: docker-compose.yml parses, and everything it and the
//! Dockerfile name exists (build files, mounted files, secrets the setup
//! script makes, configuration variables the services read).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compose() -> Value {
    serde_yaml::from_str(&read("docker-compose.yml")).expect("docker-compose.yml is YAML")
}

const SERVICES: [&str; 3] = ["auth-server", "blog-svc", "scraper-svc"];

#[test]
fn compose_runs_the_whole_stack_from_this_repository() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "auth-balancer",
            "auth-replica-2",
            "auth-replica-3",
            "auth-server",
            "blog-svc",
            "gateway",
            "postgres",
            "scraper-svc"
        ])
    );
    for service in SERVICES {
        let build = &compose["services"][service]["build"];
        assert_eq!(build["context"].as_str(), Some("."), "{service}");
        assert!(
            build["dockerfile"].is_null(),
            "{service}: the root Dockerfile"
        );
        assert_eq!(
            build["target"].as_str(),
            Some(service),
            "{service}: its own image"
        );
    }
    // Every host file a container mounts is in the repository.
    for (name, service) in services {
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let spec = volume.as_str().expect("short volume syntax");
            if let Some(host) = spec.strip_prefix("./") {
                let host = host.split(':').next().expect("host path");
                assert!(root().join(host).exists(), "{name:?} mounts missing {host}");
            }
        }
    }
}

/// The "replicas" profile: two more auth-server replicas given exactly the
/// first one's image, settings and secrets, and a balancer in front of all
/// three whose address the replicas trust; nothing of it starts without
/// the profile.
#[test]
fn the_replicas_profile_runs_three_identical_auth_servers_behind_a_balancer() {
    let compose = compose();
    let services = &compose["services"];
    let first = &services["auth-server"];
    assert!(first["profiles"].is_null(), "the first replica always runs");
    for replica in ["auth-replica-2", "auth-replica-3"] {
        let body = &services[replica];
        assert_eq!(body["profiles"][0].as_str(), Some("replicas"), "{replica}");
        for field in ["build", "image", "environment", "secrets"] {
            assert_eq!(body[field], first[field], "{replica}: {field}");
        }
        assert!(
            body["ports"].is_null(),
            "{replica}: reached through the balancer"
        );
    }
    let balancer = &services["auth-balancer"];
    assert_eq!(balancer["profiles"][0].as_str(), Some("replicas"));
    let template = read("deploy/nginx/auth-replicas.conf.template");
    let mut upstreams = BTreeSet::new();
    for (name, value) in balancer["environment"].as_mapping().expect("environment") {
        let name = name.as_str().expect("name");
        assert!(
            template.contains(&format!("${{{name}}}")),
            "template lacks ${{{name}}}"
        );
        if name.starts_with("AUTH_REPLICA_") {
            upstreams.insert(value.as_str().expect("address").to_owned());
        }
    }
    assert_eq!(
        upstreams,
        BTreeSet::from([
            "auth-replica-2:8080".to_owned(),
            "auth-replica-3:8080".to_owned(),
            "auth-server:8080".to_owned(),
        ])
    );
    let address = balancer["networks"]["signet"]["ipv4_address"]
        .as_str()
        .expect("fixed address");
    let trusted = first["environment"]["TRUSTED_PROXIES"]
        .as_str()
        .expect("TRUSTED_PROXIES");
    assert!(trusted.split(',').any(|a| a.trim() == address), "{trusted}");
}

#[test]
fn every_secret_is_a_git_ignored_file_the_setup_script_makes() {
    let compose = compose();
    let script = read("scripts/compose-secrets.sh");
    assert!(read(".gitignore").lines().any(|l| l.trim() == "/secrets"));
    assert!(read(".dockerignore")
        .lines()
        .any(|l| l.trim() == "secrets/"));
    let secrets = compose["secrets"].as_mapping().expect("secrets");
    for (name, secret) in secrets {
        let name = name.as_str().expect("name");
        let file = secret["file"].as_str().expect("file");
        assert_eq!(file, format!("./secrets/{name}"));
        assert!(
            script.contains(&format!("secrets/{name}"))
                || script.contains(&format!("write_once {name} ")),
            "{name}"
        );
    }
    // Each service is given exactly the secrets its *_FILE variables read.
    for (service, body) in compose["services"].as_mapping().expect("services") {
        let given: BTreeSet<String> = body["secrets"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().expect("secret").to_owned())
            .collect();
        let read_from: BTreeSet<String> = body["environment"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(_, value)| {
                value
                    .as_str()?
                    .strip_prefix("/run/secrets/")
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(given, read_from, "{service:?}");
    }
    // No private key or secret travels in the environment itself.
    let text = read("docker-compose.yml");
    assert!(!text.contains("BEGIN"), "no PEM inline");
    assert!(
        !text.contains("KEY_ENCRYPTION_KEY:"),
        "sealing key only as a file"
    );
}

#[test]
fn published_ports_bind_to_loopback_and_metrics_are_never_published() {
    let compose = compose();
    for (name, service) in compose["services"].as_mapping().expect("services") {
        for port in service["ports"].as_sequence().into_iter().flatten() {
            let spec = port.as_str().expect("short port syntax");
            assert!(
                spec.starts_with("${SIGNET_PUBLISH_ADDR:-127.0.0.1}:"),
                "{name:?} publishes {spec} beyond loopback by default"
            );
            assert!(!spec.ends_with(":9464"), "{name:?} publishes its metrics");
        }
    }
    for service in SERVICES {
        let metrics = compose["services"][service]["environment"]["METRICS_ADDR"]
            .as_str()
            .unwrap_or_else(|| panic!("{service}: METRICS_ADDR"));
        let bind = compose["services"][service]["environment"]["BIND_ADDR"]
            .as_str()
            .expect("BIND_ADDR");
        assert_ne!(
            metrics, bind,
            "{service}: metrics apart from the public port"
        );
    }
}

#[test]
fn each_service_connects_to_postgres_as_a_role_of_its_own() {
    let script = read("scripts/compose-secrets.sh");
    assert!(
        script.contains("postgres://signet_$1:"),
        "database URLs use the per-service roles"
    );
    assert!(
        !script.contains("postgres://signet:"),
        "no service connects as the superuser"
    );
    let compose = compose();
    let postgres = &compose["services"]["postgres"];
    let init = read("deploy/postgres/init-roles.sh");
    for service in ["auth", "blog", "scraper"] {
        let variable = format!("SIGNET_{}_DB_PASSWORD_FILE", service.to_uppercase());
        assert_eq!(
            postgres["environment"][variable.as_str()].as_str(),
            Some(format!("/run/secrets/{service}_db_password").as_str())
        );
    }
    assert!(init.contains("OWNER :\"role\"") && init.contains("REVOKE ALL ON DATABASE"));
}

#[test]
fn every_variable_compose_sets_is_a_documented_setting() {
    let compose = compose();
    let reference = read("docs/CONFIGURATION.md");
    for service in SERVICES {
        for (name, _) in compose["services"][service]["environment"]
            .as_mapping()
            .expect("environment")
        {
            let name = name.as_str().expect("name");
            assert!(
                reference.contains(&format!("`{name}`")),
                "{service}: {name} is not in docs/CONFIGURATION.md"
            );
        }
    }
    let gateway = &compose["services"]["gateway"];
    let template = read("deploy/nginx/nginx.conf.template");
    for (name, _) in gateway["environment"].as_mapping().expect("environment") {
        let name = name.as_str().expect("name");
        assert!(
            template.contains(&format!("${{{name}}}")),
            "template lacks ${{{name}}}"
        );
    }
}

#[test]
fn each_service_image_runs_only_its_binary_as_non_root_in_a_stage_of_its_own() {
    let dockerfile = read("Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    // Stages by name, each with its lines.
    let mut stages: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in &lines {
        if let Some(from) = line.strip_prefix("FROM ") {
            let name = from.split(" AS ").nth(1).unwrap_or("");
            stages.push((name, Vec::new()));
        }
        if let Some((_, body)) = stages.last_mut() {
            body.push(line);
        }
    }
    let stage = |name: &str| {
        stages
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, body)| body.clone())
            .unwrap_or_else(|| panic!("no stage {name}"))
    };
    let runtime = stage("runtime");
    let user = runtime
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .and_then(|u| u.split(':').next())
        .unwrap_or("root");
    assert!(!matches!(user, "root" | "0"), "runs as {user}");
    let build = stage("build").join("\n");
    for service in SERVICES {
        assert!(
            root().join(service).join("src/main.rs").exists(),
            "{service} is a binary"
        );
        assert!(
            build.contains(&format!("--bin {service}")),
            "builds {service}"
        );
        let image = stage(service);
        assert_eq!(image[0], format!("FROM runtime AS {service}"), "{service}");
        assert!(
            image
                .iter()
                .any(|l| l.contains(&format!("[\"/usr/local/bin/{service}\"]"))),
            "{service}: runs {service}"
        );
        assert!(
            !image.iter().any(|l| l.starts_with("USER ")),
            "{service}: keeps the runtime's non-root user"
        );
    }
    for line in &lines {
        if let Some(sources) = line
            .strip_prefix("COPY ")
            .filter(|l| !l.starts_with("--from"))
        {
            let parts: Vec<&str> = sources.split_whitespace().collect();
            for source in &parts[..parts.len() - 1] {
                assert!(root().join(source).exists(), "COPY {source}");
                assert!(
                    !source.contains("keys") && !source.ends_with(".pem"),
                    "no keys in images"
                );
            }
        }
    }
}

/// deploy/kubernetes against the Kubernetes API's own schemas, strictly (an
/// unknown field is an error), by a validator this project did not write.
#[test]
#[cfg_attr(
    not(signet_kubernetes_validate),
    ignore = "needs kubernetes-validate: `pip install kubernetes-validate` (.ci/run does) or set KUBERNETES_VALIDATE"
)]
fn the_kubernetes_manifests_pass_the_api_schemas() {
    let validator = signet_service::testing::tools::kubernetes_validate()
        .expect("kubernetes-validate: install it or set KUBERNETES_VALIDATE");
    let manifest = root().join("deploy/kubernetes/auth-server.yaml");
    let output = std::process::Command::new(&validator)
        .arg("--strict")
        .arg(&manifest)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", validator.display()));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for kind in ["deployment", "service", "poddisruptionbudget"] {
        assert!(
            report.contains(&format!("passed for resource {kind}/")),
            "{kind} not validated: {report}"
        );
    }
}

/// deploy/kubernetes: no cluster runs here either, so the manifests are
/// checked by construction: three replicas that any node drain leaves two
/// of, probes on `/readyz` and `/healthz`, secrets as files, not root, a
/// grace period longer than the server's own drain, and every variable a
/// documented setting.
#[test]
fn the_kubernetes_manifests_run_replicas_with_probes_and_file_secrets() {
    let text = read("deploy/kubernetes/auth-server.yaml");
    let documents: Vec<Value> = text
        .split("\n---\n")
        .map(|document| serde_yaml::from_str(document).expect("YAML"))
        .collect();
    let of_kind = |kind: &str| {
        documents
            .iter()
            .find(|d| d["kind"].as_str() == Some(kind))
            .unwrap_or_else(|| panic!("no {kind}"))
            .clone()
    };
    let deployment = of_kind("Deployment");
    let service = of_kind("Service");
    let budget = of_kind("PodDisruptionBudget");
    let spec = &deployment["spec"];
    let replicas = spec["replicas"].as_u64().expect("replicas");
    assert!(replicas >= 3, "{replicas}");
    assert!(
        budget["spec"]["minAvailable"]
            .as_u64()
            .expect("minAvailable")
            >= 2
    );
    let labels = &spec["selector"]["matchLabels"];
    assert_eq!(&spec["template"]["metadata"]["labels"], labels);
    assert_eq!(&service["spec"]["selector"], labels);
    assert_eq!(&budget["spec"]["selector"]["matchLabels"], labels);
    let pod = &spec["template"]["spec"];
    assert!(
        pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("grace")
            > 30
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    assert_ne!(pod["securityContext"]["runAsUser"].as_u64(), Some(0));
    let container = &pod["containers"][0];
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/readyz")
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    let reference = read("docs/CONFIGURATION.md");
    let mount = container["volumeMounts"][0]["mountPath"]
        .as_str()
        .expect("secrets mounted");
    for variable in container["env"].as_sequence().expect("env") {
        let name = variable["name"].as_str().expect("name");
        assert!(
            variable.get("valueFrom").is_none(),
            "{name}: a secret belongs in a file, not the environment"
        );
        assert!(
            reference.contains(&format!("`{name}`"))
                || reference.contains(&format!("`{}`", name.trim_end_matches("_FILE"))),
            "{name} is not in docs/CONFIGURATION.md"
        );
        if name.ends_with("_FILE") {
            assert!(
                variable["value"].as_str().expect("path").starts_with(mount),
                "{name} points into the mounted secret"
            );
        }
    }
}
