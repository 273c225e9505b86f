// Where the servers some tests need are on this machine: PostgreSQL (a
// running server named by TEST_DATABASE_URL, or its server binaries, with
// which the test suite starts a private cluster of its own), nginx,
// chromedriver with Chromium, and an OpenAPI validator.
//
// One file serves both sides: the crates' build scripts `include!` it to turn
// the tests on (a test whose server is absent is compiled `#[ignore]` with the
// reason), and `signet_service::testing` uses it as a module to run them. An
// environment variable names each tool; without it the usual places (PATH,
// Debian's and Homebrew's folders) are searched. The build scripts look once:
// after installing a server, set its variable (or `touch` a build script) so
// they look again.
//
// No `//!` comments: the file is also `include!`d at item level.

/// The variables the build scripts re-run for.
pub const TOOL_VARIABLES: &[&str] = &[
    "TEST_DATABASE_URL",
    "PG_BIN_DIR",
    "NGINX_BIN",
    "CHROMEDRIVER_BIN",
    "CHROMIUM_BIN",
    "OPENAPI_VALIDATOR",
    "AXE_CORE_JS",
    "KUBERNETES_VALIDATE",
];

/// A variable's value, when it is set and not blank.
fn tool_variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// `program` in a folder of PATH, or the first of `places` that exists.
fn find_program(program: &str, places: &[&str]) -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        places
            .iter()
            .map(std::path::PathBuf::from)
            .find(|candidate| candidate.is_file())
    })
}

/// Whether this process runs as root, when a PostgreSQL server must be started
/// as the `postgres` user (it refuses to run as root).
pub fn tool_running_as_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A folder with PostgreSQL's `initdb` and `pg_ctl`: `PG_BIN_DIR`, or PATH,
/// or the newest of Debian's `/usr/lib/postgresql/<version>/bin`, or
/// Homebrew's. From root, only when a `postgres` user exists to run them.
pub fn postgres_bin_dir() -> Option<std::path::PathBuf> {
    let has_server =
        |dir: &std::path::Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let found = if let Some(dir) = tool_variable("PG_BIN_DIR") {
        Some(std::path::PathBuf::from(dir)).filter(|dir| has_server(dir))
    } else {
        let on_path = find_program("initdb", &[])
            .and_then(|initdb| initdb.parent().map(std::path::Path::to_path_buf));
        let mut versioned: Vec<std::path::PathBuf> =
            ["/usr/lib/postgresql", "/opt/homebrew/opt", "/usr/local/opt"]
                .iter()
                .filter_map(|root| std::fs::read_dir(root).ok())
                .flatten()
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| {
                            name.starts_with("postgresql")
                                || name.chars().all(|c| c.is_ascii_digit() || c == '.')
                        })
                })
                .map(|path| path.join("bin"))
                .collect();
        // The newest version: compare the numbers in the folder names.
        versioned.sort_by_key(|path| {
            path.parent()
                .and_then(|p| p.file_name())
                .and_then(|name| name.to_str())
                .map(|name| {
                    name.split(|c: char| !c.is_ascii_digit())
                        .filter_map(|n| n.parse::<u32>().ok())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        });
        on_path
            .into_iter()
            .chain(versioned.into_iter().rev())
            .find(|dir| has_server(dir))
    };
    let runnable = !tool_running_as_root()
        || std::process::Command::new("id")
            .arg("postgres")
            .output()
            .is_ok_and(|out| out.status.success());
    found.filter(|_| runnable)
}

/// Whether the PostgreSQL tests can run: a server is named, or one can be started.
pub fn postgres_available() -> bool {
    tool_variable("TEST_DATABASE_URL").is_some() || postgres_bin_dir().is_some()
}

/// nginx: `NGINX_BIN`, or PATH, or `/usr/sbin/nginx` (Debian keeps it out of
/// a user's PATH).
pub fn nginx_bin() -> Option<std::path::PathBuf> {
    match tool_variable("NGINX_BIN") {
        Some(bin) => Some(std::path::PathBuf::from(bin)),
        None => find_program(
            "nginx",
            &[
                "/usr/sbin/nginx",
                "/usr/local/sbin/nginx",
                "/opt/homebrew/bin/nginx",
            ],
        ),
    }
}

/// chromedriver: `CHROMEDRIVER_BIN`, or PATH.
pub fn chromedriver_bin() -> Option<std::path::PathBuf> {
    match tool_variable("CHROMEDRIVER_BIN") {
        Some(bin) => Some(std::path::PathBuf::from(bin)),
        None => find_program("chromedriver", &["/usr/bin/chromedriver"]),
    }
}

/// Chromium: `CHROMIUM_BIN`, or PATH (`chromium`, `chromium-browser`).
pub fn chromium_bin() -> Option<std::path::PathBuf> {
    match tool_variable("CHROMIUM_BIN") {
        Some(bin) => Some(std::path::PathBuf::from(bin)),
        None => find_program("chromium", &["/usr/bin/chromium"])
            .or_else(|| find_program("chromium-browser", &[])),
    }
}

/// A Python with `openapi_spec_validator` importable: `OPENAPI_VALIDATOR`, or
/// `python3` from PATH when it has the module.
pub fn openapi_validator() -> Option<std::path::PathBuf> {
    let python = match tool_variable("OPENAPI_VALIDATOR") {
        Some(python) => return Some(std::path::PathBuf::from(python)),
        None => find_program("python3", &[])?,
    };
    std::process::Command::new(&python)
        .args(["-c", "import openapi_spec_validator"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
        .then_some(python)
}

/// The `kubernetes-validate` command (the PyPI package of that name, which
/// carries the API's JSON schemas, so it validates offline):
/// `KUBERNETES_VALIDATE`, or PATH, or where `.ci/run` installs it (the
/// validators' virtual environment under `~/.cache/signet`).
pub fn kubernetes_validate() -> Option<std::path::PathBuf> {
    if let Some(path) = tool_variable("KUBERNETES_VALIDATE") {
        return Some(std::path::PathBuf::from(path)).filter(|p| p.is_file());
    }
    let cached = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cache")))
        .map(|dir| dir.join("signet/openapi-validator/bin/kubernetes-validate"))
        .filter(|path| path.is_file());
    find_program("kubernetes-validate", &[]).or(cached)
}

/// axe-core's `axe.min.js` (the npm package `axe-core`): `AXE_CORE_JS`, or
/// where `.ci/run` installs it (`~/.cache/signet/axe-core`), or a global
/// npm install.
pub fn axe_core_js() -> Option<std::path::PathBuf> {
    if let Some(path) = tool_variable("AXE_CORE_JS") {
        return Some(std::path::PathBuf::from(path)).filter(|p| p.is_file());
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cache"))
        });
    cache
        .map(|dir| dir.join("signet/axe-core/node_modules/axe-core/axe.min.js"))
        .into_iter()
        .chain(
            [
                "/usr/local/lib/node_modules/axe-core/axe.min.js",
                "/usr/lib/node_modules/axe-core/axe.min.js",
            ]
            .map(std::path::PathBuf::from),
        )
        .find(|path| path.is_file())
}

/// For a build script: declare `cfg`, and set it when `available`.
#[allow(dead_code)]
pub fn emit_cfg(cfg: &str, available: bool) {
    println!("cargo::rustc-check-cfg=cfg({cfg})");
    if available {
        println!("cargo::rustc-cfg={cfg}");
    }
}

/// For a build script: re-run when any tool's variable changes.
#[allow(dead_code)]
pub fn rerun_on_tool_variables() {
    for variable in TOOL_VARIABLES {
        println!("cargo::rerun-if-env-changed={variable}");
    }
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=../signet-service/src/test_tools.rs");
}
